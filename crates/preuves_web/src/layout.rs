//! What every page shares: the [`Chrome`] (who is signed in, the CSRF token, the one-shot
//! message, the navigation), the [`render`] helper, and the error renderer that turns an
//! [`AppError`] into a French page or, under `/api/`, into JSON (`{"errors":[...]}`, also for the
//! errors the router answers by itself there, such as a 405).

use askama::Template;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use preuves_db::Role;

use crate::error::{AppError, ErrorItem, ErrorMarker};
use crate::security::RequestContext;

/// The signed-in user as the layout shows it.
#[derive(Debug, Clone)]
pub struct UserView {
    /// Display name.
    pub name: String,
    /// French role label.
    pub role_label: &'static str,
    /// Whether the user is an administrator.
    pub is_admin: bool,
    /// Whether the user is an instructor.
    pub is_instructor: bool,
    /// Whether the user is a vendor.
    pub is_vendor: bool,
}

/// The parts of the layout that depend on the request.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The page title (before " — preuves").
    pub title: String,
    /// The signed-in user.
    pub user: Option<UserView>,
    /// The CSRF token for the page's forms.
    pub csrf: String,
    /// A one-shot message from the previous request.
    pub flash: Option<String>,
    /// The navigation entry to mark as current.
    pub section: &'static str,
}

impl Chrome {
    /// The chrome of a page in `section`.
    pub fn new(ctx: &RequestContext, title: impl Into<String>, section: &'static str) -> Self {
        Self {
            title: title.into(),
            user: ctx.user().map(|u| UserView {
                name: u.display_name.clone(),
                role_label: u.role.label(),
                is_admin: u.role == Role::Admin,
                is_instructor: u.role == Role::Instructor,
                is_vendor: u.role == Role::Vendor,
            }),
            csrf: ctx.csrf.clone(),
            flash: ctx.flash.clone(),
            section,
        }
    }

    /// `aria-current` for a navigation entry.
    pub fn current(&self, section: &str) -> &'static str {
        if self.section == section {
            "page"
        } else {
            "false"
        }
    }
}

/// Renders a template as an HTML response.
pub fn render<T: Template>(template: &T) -> Result<Response, AppError> {
    Ok(Html(template.render()?).into_response())
}

/// Renders a template with a status code (a form re-displayed with errors is a 422).
pub fn render_with<T: Template>(status: StatusCode, template: &T) -> Result<Response, AppError> {
    Ok((status, Html(template.render()?)).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: &'static str,
    message: String,
    request_id: String,
}

/// Turns error responses into pages or JSON, once for the whole application.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let path = request.uri().path().to_owned();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let response = next.run(request).await;
    let Some(marker) = response.extensions().get::<ErrorMarker>().cloned() else {
        if is_api {
            return api_shape(response);
        }
        return response;
    };
    if marker.status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(request_id, "internal error answered");
    }
    let mut rendered = if is_api {
        json_errors(marker.status, &marker.items)
    } else if marker.status == StatusCode::UNAUTHORIZED {
        Redirect::to(&format!("/connexion?suivant={}", encode_query(&path))).into_response()
    } else {
        let ctx = response
            .extensions()
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_else(|| RequestContext {
                session: None,
                csrf: String::new(),
                flash: None,
                client: String::new(),
                token: None,
            });
        let page = ErrorPage {
            chrome: Chrome::new(&ctx, marker.title, ""),
            heading: marker.title,
            message: marker.message.clone(),
            request_id,
        };
        match page.render() {
            Ok(html) => (marker.status, Html(html)).into_response(),
            Err(_) => (marker.status, marker.message.clone()).into_response(),
        }
    };
    // Keep the headers the error set (Retry-After, cookies; the Bearer challenge for the API).
    let mut kept = vec![header::RETRY_AFTER, header::SET_COOKIE];
    if is_api {
        kept.push(header::WWW_AUTHENTICATE);
    }
    for name in kept {
        for v in response.headers().get_all(&name) {
            rendered.headers_mut().append(name.clone(), v.clone());
        }
    }
    rendered
}

/// The answer to a panic in a handler: an internal error (logged with the panic's message in the
/// request's span, as every internal error is), which [`render_errors`] turns into the 500 page or JSON like any other.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text payload".to_owned());
    AppError::internal(format!("panic: {what}")).into_response()
}

/// `{"errors":[{"code","message","field"?}]}`, the one shape of every error under `/api/`.
pub(crate) fn json_errors(status: StatusCode, items: &[ErrorItem]) -> Response {
    let errors: Vec<serde_json::Value> = items
        .iter()
        .map(|e| {
            let mut item = serde_json::json!({"code": e.code, "message": e.message});
            if let Some(field) = &e.field {
                item["field"] = serde_json::Value::String(field.clone());
            }
            item
        })
        .collect();
    (status, axum::Json(serde_json::json!({ "errors": errors }))).into_response()
}

/// An error answered under `/api/` by something else than an [`AppError`] (the router's own
/// 405, a body limit of a layer) gets the API's JSON shape too; anything else passes.
fn api_shape(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "Cette méthode HTTP n'est pas permise sur cette adresse (voir /api/openapi.json).",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "Le corps de la requête dépasse la taille autorisée.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Le type du corps de la requête n'est pas accepté ici (voir /api/openapi.json).",
        ),
        StatusCode::NOT_FOUND => (
            "not_found",
            "La ressource demandée n'existe pas, ou vous n'y avez pas accès.",
        ),
        s if s.is_server_error() => (
            "internal",
            "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez dans un instant.",
        ),
        _ => ("bad_request", "La requête est mal formée."),
    };
    let mut rendered = json_errors(
        status,
        &[ErrorItem {
            code,
            message: message.to_owned(),
            field: None,
        }],
    );
    for name in [header::ALLOW, header::RETRY_AFTER] {
        for v in response.headers().get_all(&name) {
            rendered.headers_mut().append(name.clone(), v.clone());
        }
    }
    rendered
}

/// Percent-encodes a value for a query string.
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
