//! The file types a proof (or a sworn statement) may be, recognised on the content.
//!
//! A deposited file is classified from its first bytes (magic numbers), never from its name or
//! the browser's `Content-Type`; its name's extension must then agree with what the content is,
//! so `rapport.pdf` holding a program or a web page is refused (type spoofing). Active content
//! (HTML, SVG, scripts, executables) is refused even under a text extension: instructors open
//! these files.

/// A type a proof file may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Mp4,
    QuickTime,
    WebM,
    Zip,
    Text,
}

impl FileKind {
    /// The content type recorded and served.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Mp4 => "video/mp4",
            Self::QuickTime => "video/quicktime",
            Self::WebM => "video/webm",
            Self::Zip => "application/zip",
            Self::Text => "text/plain; charset=utf-8",
        }
    }

    /// The French name used in messages.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Pdf => "un document PDF",
            Self::Png => "une image PNG",
            Self::Jpeg => "une image JPEG",
            Self::Mp4 => "une vidéo MP4",
            Self::QuickTime => "une vidéo QuickTime",
            Self::WebM => "une vidéo WebM",
            Self::Zip => "une archive ZIP",
            Self::Text => "un fichier texte",
        }
    }

    /// The extensions a file of this kind may carry.
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Pdf => &["pdf"],
            Self::Png => &["png"],
            Self::Jpeg => &["jpg", "jpeg"],
            // MP4 and QuickTime share the ISO base media container.
            Self::Mp4 | Self::QuickTime => &["mp4", "m4v", "mov"],
            Self::WebM => &["webm"],
            Self::Zip => &["zip"],
            Self::Text => &["txt", "log", "csv", "json", "xml"],
        }
    }
}

/// What the pages say is accepted.
pub(crate) const ACCEPTED_LABEL: &str = "PDF, PNG, JPEG, vidéo MP4, MOV ou WebM, archive ZIP, \
     texte (TXT, LOG, CSV, JSON, XML)";

/// The `accept` attribute of the file inputs (a hint for the browser's picker only).
pub(crate) const ACCEPT_ATTRIBUTE: &str =
    ".pdf,.png,.jpg,.jpeg,.mp4,.m4v,.mov,.webm,.zip,.txt,.log,.csv,.json,.xml";

/// Recognises the content from its first bytes (up to 8 KiB).
pub(crate) fn sniff(head: &[u8]) -> Option<FileKind> {
    if head.starts_with(b"%PDF-") {
        return Some(FileKind::Pdf);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(FileKind::Png);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(FileKind::Jpeg);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some(if &head[8..12] == b"qt  " {
            FileKind::QuickTime
        } else {
            FileKind::Mp4
        });
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(FileKind::WebM);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(FileKind::Zip);
    }
    is_plain_text(head).then_some(FileKind::Text)
}

/// UTF-8 without control characters other than tab and line breaks (a multi-byte character
/// cut by the 8 KiB window is forgiven), and no markup a browser would run.
fn is_plain_text(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // The window may cut a character: accept an incomplete sequence at the very end only.
        Err(e) if e.error_len().is_none() => match std::str::from_utf8(&head[..e.valid_up_to()]) {
            Ok(t) => t,
            Err(_) => return false,
        },
        Err(_) => return false,
    };
    if text.is_empty()
        || text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{feff}'))
    {
        return false;
    }
    let lower = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_lowercase();
    let active = [
        "<!doctype html",
        "<html",
        "<script",
        "<svg",
        "<?xml-stylesheet",
        "#!",
    ];
    !(active.iter().any(|a| lower.starts_with(a))
        || lower.contains("<script")
        || lower.contains("<svg")
        || lower.contains("<html"))
}

/// Why a file is refused, in French.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    Empty,
    Unknown,
    Mismatch { kind: FileKind, extension: String },
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("Le fichier est vide."),
            Self::Unknown => write!(
                f,
                "Ce type de fichier n'est pas accepté (son contenu a été examiné, pas seulement \
                 son nom). Types acceptés\u{a0}: {ACCEPTED_LABEL}."
            ),
            Self::Mismatch { kind, extension } => write!(
                f,
                "Le nom du fichier annonce «\u{a0}.{extension}\u{a0}» mais son contenu est {}. \
                 Renommez-le avec la bonne extension ou déposez le bon fichier.",
                kind.label()
            ),
        }
    }
}

/// Checks the first bytes of a file named `name` against the allow-list.
pub(crate) fn check(name: &str, head: &[u8]) -> Result<FileKind, Refused> {
    if head.is_empty() {
        return Err(Refused::Empty);
    }
    let kind = sniff(head).ok_or(Refused::Unknown)?;
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if kind.extensions().contains(&extension.as_str()) {
        Ok(kind)
    } else if extension.is_empty() {
        Err(Refused::Mismatch {
            kind,
            extension: "(sans extension)".to_owned(),
        })
    } else {
        Err(Refused::Mismatch { kind, extension })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognised_by_content() {
        assert_eq!(check("a.pdf", b"%PDF-1.7\n..."), Ok(FileKind::Pdf));
        assert_eq!(check("A.PNG", b"\x89PNG\r\n\x1a\n...."), Ok(FileKind::Png));
        assert_eq!(
            check("a.jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok(FileKind::Jpeg)
        );
        assert_eq!(
            check("v.mp4", b"\0\0\0\x20ftypisom\0\0\x02\0"),
            Ok(FileKind::Mp4)
        );
        assert_eq!(
            check("v.mov", b"\0\0\0\x14ftypqt  \0\0\x02\0"),
            Ok(FileKind::QuickTime)
        );
        assert_eq!(
            check("v.webm", &[0x1A, 0x45, 0xDF, 0xA3, 1]),
            Ok(FileKind::WebM)
        );
        assert_eq!(check("p.zip", b"PK\x03\x04rest"), Ok(FileKind::Zip));
        assert_eq!(
            check("journal.log", "Résultat : conforme\n".as_bytes()),
            Ok(FileKind::Text)
        );
    }

    #[test]
    fn spoofing_and_active_content_refused() {
        assert_eq!(check("vide.pdf", b""), Err(Refused::Empty));
        assert_eq!(
            check("rapport.pdf", b"MZ\x90\0\x03\0\0\0"),
            Err(Refused::Unknown)
        );
        assert_eq!(
            check("rapport.pdf", b"\x7fELF\x02\x01"),
            Err(Refused::Unknown)
        );
        assert!(matches!(
            check("rapport.pdf", b"\x89PNG\r\n\x1a\n"),
            Err(Refused::Mismatch {
                kind: FileKind::Png,
                ..
            })
        ));
        assert!(matches!(
            check("rapport.pdf", b"plain words"),
            Err(Refused::Mismatch {
                kind: FileKind::Text,
                ..
            })
        ));
        assert_eq!(
            check("page.txt", b"<!DOCTYPE html><html><script>x</script>"),
            Err(Refused::Unknown)
        );
        assert_eq!(
            check("image.xml", b"<?xml version='1.0'?><svg/>"),
            Err(Refused::Unknown)
        );
        assert_eq!(
            check("script.txt", b"#!/bin/sh\nrm -rf /"),
            Err(Refused::Unknown)
        );
        assert!(matches!(
            check("sans-extension", b"%PDF-1.4"),
            Err(Refused::Mismatch { .. })
        ));
    }

    #[test]
    fn a_character_cut_by_the_window_is_forgiven() {
        let mut head = "é".repeat(10).into_bytes();
        head.push(0xC3);
        assert_eq!(sniff(&head), Some(FileKind::Text));
        assert_eq!(sniff(&[0xC3, 0x28, b'a']), None);
    }
}
