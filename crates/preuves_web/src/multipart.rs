//! Reading a `multipart/form-data` body that carries one file and a few small text fields, for
//! both front doors (the REM import page and its API endpoint): the small fields are read under
//! a shared budget, the file is refused as soon as it exceeds its limit (the rest of the body is
//! never buffered), and a page's form must start with its CSRF token (nothing else is read
//! before the token is checked).

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use axum::http::{HeaderMap, header};

use crate::deposit::file_name_of;
use crate::error::AppError;
use crate::security::{RequestContext, check_csrf};

/// What the small form fields may weigh, in all (the token, the dispositif code, stray fields).
pub(crate) const SMALL_FIELDS: usize = 16 * 1024;

/// A file received: its own name (no folder) and its bytes.
#[derive(Debug, Clone)]
pub(crate) struct ReceivedFile {
    /// The file's name, without any folder a browser may have sent.
    pub(crate) name: String,
    /// Its content.
    pub(crate) bytes: Vec<u8>,
}

/// What the multipart body held.
#[derive(Debug, Default)]
pub(crate) struct FileForm {
    /// The small text fields, trimmed, by name (the CSRF token excepted).
    pub(crate) fields: Vec<(String, String)>,
    /// The file part, if one came.
    pub(crate) file: Option<ReceivedFile>,
    /// The file exceeded its limit: reading stopped there.
    pub(crate) too_large: bool,
}

impl FileForm {
    /// The value of a small field, if sent (the last one, if sent twice).
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a body announced larger than the file limit plus the small fields should be refused
/// unread.
pub(crate) fn announced_too_large(headers: &HeaderMap, max: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > max.saturating_add(SMALL_FIELDS + 4096))
}

/// A body that could not be read.
pub(crate) fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!(
        "L'envoi du formulaire est illisible ou a été interrompu ({e}). Recommencez."
    ))
}

/// Reads a small text field, counting its bytes against `budget`.
async fn small_text(field: &mut Field<'_>, budget: &mut usize) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
        if chunk.len() > *budget {
            return Err(AppError::BadRequest(
                "Un champ du formulaire est anormalement long.".to_owned(),
            ));
        }
        *budget -= chunk.len();
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map(|s| s.trim().to_owned())
        .map_err(|_| AppError::BadRequest("Un champ du formulaire n'est pas du texte.".to_owned()))
}

/// Reads the form: the file from the part named `file_field` (at most `max` bytes), the other
/// parts as small text fields. With `csrf`, the first part must be the page's `csrf` token.
pub(crate) async fn read_file_form(
    mut multipart: Multipart,
    csrf: Option<&RequestContext>,
    file_field: &str,
    max: usize,
) -> Result<FileForm, AppError> {
    let mut budget = SMALL_FIELDS;
    let mut checked = csrf.is_none();
    let mut form = FileForm::default();
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        if let (false, Some(ctx)) = (checked, csrf) {
            if name != "csrf" {
                return Err(AppError::Csrf);
            }
            let token = small_text(&mut field, &mut budget).await?;
            check_csrf(ctx, &token)?;
            checked = true;
            continue;
        }
        if name == file_field {
            let file_name = field.file_name().map(file_name_of).unwrap_or_default();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                if bytes.len() + chunk.len() > max {
                    // Stop reading here: the rest of the body is never buffered.
                    form.too_large = true;
                    return Ok(form);
                }
                bytes.extend_from_slice(&chunk);
            }
            form.file = Some(ReceivedFile {
                name: file_name,
                bytes,
            });
        } else {
            let value = small_text(&mut field, &mut budget).await?;
            form.fields.push((name, value));
        }
    }
    if !checked {
        return Err(AppError::Csrf);
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_file_name_is_kept() {
        assert_eq!(file_name_of("C:\\Users\\a\\REM.csv"), "REM.csv");
        assert_eq!(file_name_of("dir/REM v2.xlsx"), "REM v2.xlsx");
        assert_eq!(file_name_of(""), "");
    }
}
