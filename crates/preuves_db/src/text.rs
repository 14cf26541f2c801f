//! Text folding for search: lower case and without French diacritics, computed in Rust so that
//! both backends compare the same bytes (SQLite's `LOWER` only folds ASCII).

/// Whether `c` is a Unicode bidirectional embedding, override or isolate control (U+202A–U+202E,
/// U+2066–U+2069): invisible characters that make a text display in another order than it is
/// stored (`facture\u{202e}fdp.exe` shows as `factureexe.pdf`).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` without its bidirectional controls (see [`is_bidi_control`]): how the platform stores
/// file names and free-text names, so that they display as they are.
pub fn without_bidi_controls(s: &str) -> String {
    s.chars().filter(|&c| !is_bidi_control(c)).collect()
}

/// Each of `names` without its bidirectional controls.
pub fn names_without_bidi_controls(names: &[String]) -> Vec<String> {
    names.iter().map(|n| without_bidi_controls(n)).collect()
}

/// Additional components with their names without bidirectional controls.
pub fn components_without_bidi_controls(
    components: &[preuves_domain::AdditionalComponent],
) -> Vec<preuves_domain::AdditionalComponent> {
    components
        .iter()
        .map(|c| preuves_domain::AdditionalComponent {
            name: without_bidi_controls(&c.name),
            chapters: c.chapters.clone(),
        })
        .collect()
}

/// Folds `s` for search: lower case, diacritics removed, ligatures expanded.
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' | 'ì' => out.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ÿ' => out.push('y'),
            'ç' => out.push('c'),
            'ñ' => out.push('n'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            // Typographic apostrophes and non-breaking spaces, frequent in French documents.
            '\u{2019}' | '\u{2018}' => out.push('\''),
            '\u{a0}' | '\u{202f}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A `LIKE` pattern matching `query` (folded) anywhere, with `\` as the escape character.
pub(crate) fn contains_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in fold(query.trim()).chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// A trimmed text, or `None` when empty.
pub(crate) fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_are_removed_and_nothing_else() {
        assert_eq!(
            without_bidi_controls("facture\u{202e}fdp.exe \u{2066}é\u{2069}\u{202a}"),
            "facturefdp.exe é"
        );
        assert_eq!(
            without_bidi_controls("l\u{2019}INS\u{a0}2"),
            "l\u{2019}INS\u{a0}2"
        );
    }

    #[test]
    fn folding_removes_case_and_accents() {
        assert_eq!(fold("Éditeur ÉLÈVE Œuvre"), "editeur eleve oeuvre");
        assert_eq!(fold("l\u{2019}INS"), "l'ins");
    }

    #[test]
    fn like_wildcards_in_the_query_are_escaped() {
        assert_eq!(contains_pattern(" 50%_a\\ "), "%50\\%\\_a\\\\%");
    }
}
