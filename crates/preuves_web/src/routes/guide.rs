//! The user guide's pages at `/aide` and `/aide/{page}`, in the site's layout, and its
//! screenshots at `/aide/captures/{name}.png`; the guide itself is rendered by [`crate::guide`].

use askama::Template;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::guide;
use crate::layout::{Chrome, render};
use crate::security::RequestContext;

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage<'a> {
    chrome: Chrome,
    is_index: bool,
    body: &'a str,
}

fn show(ctx: &RequestContext, slug: &str) -> Result<Response, AppError> {
    let page = guide::page(slug).ok_or(AppError::NotFound)?;
    render(&GuidePage {
        chrome: Chrome::new(ctx, page.title.clone(), "aide"),
        is_index: slug.is_empty(),
        body: &page.html,
    })
}

/// `GET /aide`: the guide's index.
pub(crate) async fn index(ctx: RequestContext) -> Result<Response, AppError> {
    show(&ctx, "")
}

/// `GET /aide/{page}`: one page of the guide (`editeur`, `instructeur`, `administrateur`).
pub(crate) async fn page(
    ctx: RequestContext,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    if slug.is_empty() {
        return Err(AppError::NotFound);
    }
    show(&ctx, &slug)
}

/// `GET /aide/captures/{name}.png`: a screenshot of the guide.
pub(crate) async fn capture(Path(file): Path<String>) -> Result<Response, AppError> {
    let name = file.strip_suffix(".png").ok_or(AppError::NotFound)?;
    let bytes = guide::capture_bytes(name).ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        bytes,
    )
        .into_response())
}
