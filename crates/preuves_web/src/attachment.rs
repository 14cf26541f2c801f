//! Downloads of stored files (proofs, sworn statements, attestations): streamed from the blob
//! store, always as an attachment, never rendered inline. Shared by the pages and the API.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use preuves_storage::BlobKey;

use crate::AppState;
use crate::error::AppError;
use crate::layout::encode_query;

/// A deposited proof file, as a download.
pub(crate) async fn proof(
    state: &AppState,
    p: &preuves_db::StoredProof,
) -> Result<Response, AppError> {
    attachment(state, &p.blob_key, &p.content_type, &p.file_name).await
}

/// Streams a stored blob as a download, never rendered inline.
pub(crate) async fn attachment(
    state: &AppState,
    blob_key: &str,
    content_type: &str,
    file_name: &str,
) -> Result<Response, AppError> {
    let key = BlobKey::parse(blob_key.to_owned()).map_err(AppError::internal)?;
    let stream = state
        .blobs
        .get_stream(&key)
        .await
        .map_err(AppError::internal)?;
    let size = stream.size();
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode_query(file_name)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
