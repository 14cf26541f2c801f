//! The home page and the static assets (our own CSS and script, embedded in the binary).

use askama::Template;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::layout::{Chrome, render};
use crate::security::RequestContext;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
}

pub(crate) async fn show(ctx: RequestContext) -> Result<Response, AppError> {
    render(&HomePage {
        chrome: Chrome::new(&ctx, "Accueil", "accueil"),
    })
}

pub(crate) async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

pub(crate) async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}
