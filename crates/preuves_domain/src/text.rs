//! A readable, plain-text rendering of a scenario's answer, for a person at a terminal
//! (`preuves simulate --format text`): the refusals, or a summary and one line per requirement.

use std::fmt::Write;

use crate::scenario::{Answer, AnswerReason};

/// Renders an answer as a French plain-text report.
pub fn render(answer: &Answer) -> String {
    let mut out = String::new();
    if !answer.errors.is_empty() {
        let _ = writeln!(
            out,
            "Candidature refusée : {} motif{}.",
            answer.errors.len(),
            plural(answer.errors.len())
        );
        for e in &answer.errors {
            let _ = writeln!(out, "  ✗ [{}] {}", e.code, e.message);
        }
        return out;
    }
    if let Some(s) = &answer.summary {
        let _ = writeln!(out, "Plan de preuves");
        for (label, n) in [
            ("Exigences dans le périmètre", s.in_scope),
            ("À déposer", s.to_deposit),
            ("Masquées par héritage", s.masked_heritage),
            ("Masquées par équivalence", s.masked_equivalence),
            ("Preuves à déposer", s.proofs_to_deposit),
            ("Preuves économisées", s.proofs_saved),
        ] {
            let _ = writeln!(out, "  {label:<27} : {n:>5}");
        }
    }
    for w in &answer.warnings {
        let _ = writeln!(out, "  ⚠ [{}] {}", w.code, w.message);
    }
    let _ = writeln!(out);

    let headers = [
        "Exigence",
        "Périmètre",
        "Profil",
        "Chapitre",
        "Statut",
        "Motif",
    ];
    let rows: Vec<[String; 6]> = answer
        .requirements
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                r.perimeter.label().to_owned(),
                r.profile.to_string(),
                r.chapter.to_string(),
                r.status.label().to_owned(),
                r.reason.as_ref().map(reason_text).unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let pad = w - cell.chars().count();
                l.push_str(cell);
                l.extend(std::iter::repeat_n(' ', pad + 2));
            }
        }
        l.trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(&headers));
    let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    let _ = writeln!(out, "{}", "─".repeat(total));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let _ = writeln!(out, "{}", line(&cells));
    }
    out
}

fn reason_text(reason: &AnswerReason) -> String {
    let mut parts = vec![reason.rule.to_string()];
    if let Some(nru) = &reason.nru {
        parts.push(format!("NRU {nru}"));
    }
    if let Some(source) = &reason.source_requirement {
        parts.push(format!("exigence source {source}"));
    }
    if let Some(component) = &reason.component {
        parts.push(format!("composant « {component} »"));
    }
    parts.join(" · ")
}

fn plural(n: usize) -> &'static str {
    if n > 1 { "s" } else { "" }
}
