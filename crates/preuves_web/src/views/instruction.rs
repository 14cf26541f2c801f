//! What the instruction pages show: the queue's rows and filter choices, the files to judge,
//! what is missing before a grant, and the history in words.

use preuves_db::{
    CandidatureStatus, GapKind, HistoryEntry, QueueEntry, StoredCandidature, StoredProof, Verdict,
    current_proofs, instruction_gaps,
};
use preuves_domain::IsoDate;

use crate::format::{french_datetime, human_size, key_label};
use crate::plan_view;

/// A candidature of the queue.
pub(crate) struct QueueRow {
    pub(crate) id: i64,
    pub(crate) vendor: String,
    pub(crate) target: String,
    pub(crate) solution: String,
    pub(crate) status_code: &'static str,
    pub(crate) status_label: &'static str,
    pub(crate) submitted: String,
    pub(crate) complete: String,
    pub(crate) date2: String,
    pub(crate) date2_passed: bool,
    pub(crate) holder: String,
    pub(crate) awaiting: u64,
}

impl QueueRow {
    /// The row of `e`, its date 2 marked as passed against `today`.
    pub(crate) fn of(e: &QueueEntry, today: IsoDate) -> Self {
        Self {
            id: e.candidature.0,
            vendor: e.vendor_name.clone(),
            target: key_label(&e.target),
            solution: format!("{} {}", e.solution_name, e.version),
            status_code: e.status.code(),
            status_label: e.status.label(),
            submitted: e.submitted_at.map(french_datetime).unwrap_or_default(),
            complete: e.complete_at.map_or_else(
                || "incomplet".to_owned(),
                |t| format!("complet le {}", french_datetime(t)),
            ),
            date2: e
                .date2
                .map_or_else(|| "non fixée".to_owned(), |d| d.to_french()),
            date2_passed: e.date2.is_some_and(|d| d < today),
            holder: e
                .assigned_name
                .clone()
                .unwrap_or_else(|| "personne".to_owned()),
            awaiting: e.proofs_awaiting_verdict,
        }
    }
}

/// A choice of a filter.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
}

/// The dispositifs (`CODE-wave`) and the vendors found in the whole queue, in queue order.
pub(crate) fn queue_choices(all: &[QueueEntry]) -> (Vec<Choice>, Vec<Choice>) {
    let mut dispositifs: Vec<Choice> = Vec::new();
    let mut vendors: Vec<Choice> = Vec::new();
    for e in all {
        let value = format!("{}-{}", e.target.code, e.target.wave.number());
        if !dispositifs.iter().any(|d| d.value == value) {
            dispositifs.push(Choice {
                value,
                label: key_label(&e.target),
            });
        }
        let value = e.organisation.0.to_string();
        if !vendors.iter().any(|v| v.value == value) {
            vendors.push(Choice {
                value,
                label: e.vendor_name.clone(),
            });
        }
    }
    (dispositifs, vendors)
}

/// The statuses of the queue.
pub(crate) fn status_choices() -> Vec<Choice> {
    [
        CandidatureStatus::Submitted,
        CandidatureStatus::InInstruction,
        CandidatureStatus::ComplementRequested,
    ]
    .iter()
    .map(|s| Choice {
        value: s.code().to_owned(),
        label: s.label().to_owned(),
    })
    .collect()
}

/// A current file and its verdict form.
pub(crate) struct FileToJudge {
    pub(crate) id: i64,
    pub(crate) requirement: String,
    pub(crate) anchor: String,
    pub(crate) label: String,
    pub(crate) name: String,
    pub(crate) href: String,
    pub(crate) size: String,
    pub(crate) sha256: String,
    pub(crate) uploaded: String,
    pub(crate) verdict: Option<&'static str>,
    pub(crate) verdict_code: &'static str,
    pub(crate) comment: String,
    pub(crate) judged: String,
}

/// The current file of each expected proof, by requirement, each downloaded under `prefix`.
pub(crate) fn files_to_judge(proofs: &[StoredProof], prefix: &str) -> Vec<FileToJudge> {
    let mut files: Vec<FileToJudge> = current_proofs(proofs)
        .iter()
        .map(|p| {
            let verdict = Verdict::of(p);
            FileToJudge {
                id: p.id.0,
                requirement: p.requirement.to_string(),
                anchor: plan_view::anchor_of(p.requirement.as_str()),
                label: match (&p.scenario_ref, &p.proof_ref) {
                    (_, Some(r)) => format!("preuve {r}"),
                    _ => format!(
                        "scénario {}, preuve {}",
                        p.scenario_index + 1,
                        p.proof_index + 1
                    ),
                },
                name: p.file_name.clone(),
                href: format!("{prefix}/{}", p.id),
                size: human_size(p.size),
                sha256: p.sha256.clone(),
                uploaded: french_datetime(p.uploaded_at),
                verdict: verdict.map(Verdict::label),
                verdict_code: verdict.map_or("", Verdict::code),
                comment: p.verdict_comment.clone().unwrap_or_default(),
                judged: p.judged_at.map(french_datetime).unwrap_or_default(),
            }
        })
        .collect();
    files.sort_by(|a, b| {
        a.requirement
            .cmp(&b.requirement)
            .then(a.label.cmp(&b.label))
    });
    files
}

/// An expected proof still missing before a grant.
pub(crate) struct GapView {
    pub(crate) requirement: String,
    pub(crate) what: String,
}

/// What is missing before candidature `c` may be granted, in words.
pub(crate) fn gaps(c: &StoredCandidature, proofs: &[StoredProof]) -> Vec<GapView> {
    c.plan
        .as_ref()
        .map(|p| instruction_gaps(p, proofs))
        .unwrap_or_default()
        .into_iter()
        .map(|g| GapView {
            what: format!(
                "{} (scénario {}, preuve {})",
                match g.kind {
                    GapKind::Missing => "aucun fichier déposé",
                    GapKind::AwaitingVerdict => "fichier en attente de verdict",
                    GapKind::NotCompliant => "fichier jugé non conforme",
                    GapKind::ComplementRequested => "complément demandé",
                },
                g.scenario_index + 1,
                g.proof_index + 1
            ),
            requirement: g.requirement,
        })
        .collect()
}

/// One event of a candidature's history, in words.
pub(crate) struct HistoryView {
    pub(crate) at: String,
    pub(crate) who: String,
    pub(crate) action: String,
}

/// A candidature's history, in words.
pub(crate) fn history(entries: &[HistoryEntry]) -> Vec<HistoryView> {
    entries
        .iter()
        .map(|h| HistoryView {
            at: french_datetime(h.at),
            who: h.actor_name.clone().unwrap_or_else(|| h.actor.clone()),
            action: action_label(&h.action),
        })
        .collect()
}

/// An audit action in words (an unknown one as it is).
fn action_label(action: &str) -> String {
    match action {
        "candidature.create" => "candidature ouverte".to_owned(),
        "candidature.update_step" => "étape administrative modifiée".to_owned(),
        "candidature.submit" => "candidature déposée".to_owned(),
        "candidature.status" => "statut changé".to_owned(),
        "candidature.assign" => "candidature attribuée".to_owned(),
        "candidature.late_nrus" => "NRU obtenu depuis le dépôt (R5)".to_owned(),
        "proof.deposit" => "preuve déposée".to_owned(),
        "proof.verdict" => "verdict sur une preuve".to_owned(),
        "candidature.complements_requested" => "compléments demandés".to_owned(),
        "candidature.complements_answered" => "compléments apportés".to_owned(),
        "candidature.refuse" => "candidature refusée".to_owned(),
        "candidature.grant" => "référencement accordé".to_owned(),
        other => other.to_owned(),
    }
}
