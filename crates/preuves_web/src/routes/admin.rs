//! The administration index: where an administrator finds every administration page.

use askama::Template;
use axum::response::Response;

use crate::error::AppError;
use crate::layout::{Chrome, render};
use crate::security::{AdminCap, RequestContext};

#[derive(Template)]
#[template(path = "admin_index.html")]
struct AdminIndexPage {
    chrome: Chrome,
}

pub(crate) async fn index(ctx: RequestContext, _admin: AdminCap) -> Result<Response, AppError> {
    render(&AdminIndexPage {
        chrome: Chrome::new(&ctx, "Administration", "admin"),
    })
}
