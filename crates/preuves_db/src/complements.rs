//! Complement requests (`docs/rules.md`): an instructor asks the vendor for complements, the
//! vendor answers.
//!
//! A request moves the candidature from in instruction to complement requested and is kept
//! forever in `complement_requests`; the vendor deposits files (allowed in that status) and
//! answers, which records the answer on the open request and moves the candidature back to **in
//! instruction**, not to submitted: it stays with the instructor who asked, whose verdicts still
//! stand, and resumes where it stopped instead of queueing again.

use preuves_domain::{CandidatureStatus, RequirementId, WorkflowConflict};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::actor_join;
use crate::error::{Refused, RequiredText};
use crate::ids::{Actor, CandidatureId, ComplementRequestId, OrganisationId};
use crate::instruction::{acting_user, check_instruction_act};
use crate::stored_candidatures::{self, hold_if_free, set_status};
use crate::text::non_blank;
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// One item of a complement request: a requirement and what is asked about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplementItem {
    /// The requirement (to deposit in the frozen plan).
    pub requirement: RequirementId,
    /// What the instructor asks about it (may be empty: the message says it all).
    pub comment: String,
}

/// A complement request and, once given, the vendor's answer; kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplementRequest {
    /// Its id.
    pub id: ComplementRequestId,
    /// The candidature.
    pub candidature: CandidatureId,
    /// The instructor's message.
    pub message: String,
    /// The requirements concerned, with a comment each.
    pub items: Vec<ComplementItem>,
    /// When it was asked.
    pub requested_at: Timestamp,
    /// Who asked ([`Actor`]'s text form).
    pub requested_by: String,
    /// That user's display name.
    pub requested_by_name: Option<String>,
    /// The vendor's answer, once given.
    pub answer: Option<String>,
    /// When it was answered.
    pub answered_at: Option<Timestamp>,
    /// Who answered ([`Actor`]'s text form).
    pub answered_by: Option<String>,
    /// That user's display name.
    pub answered_by_name: Option<String>,
}

impl ComplementRequest {
    /// Whether the vendor has not answered yet.
    pub fn is_open(&self) -> bool {
        self.answered_at.is_none()
    }
}

struct ComplementRow {
    id: i64,
    candidature_id: i64,
    message: String,
    items: String,
    requested_at: i64,
    requested_by: String,
    requested_by_name: Option<String>,
    answer: Option<String>,
    answered_at: Option<i64>,
    answered_by: Option<String>,
    answered_by_name: Option<String>,
}

crate::row::impl_from_row!(ComplementRow {
    id,
    candidature_id,
    message,
    items,
    requested_at,
    requested_by,
    requested_by_name,
    answer,
    answered_at,
    answered_by,
    answered_by_name
});

fn complement_select() -> String {
    format!(
        "SELECT r.id, r.candidature_id, r.message, r.items, r.requested_at, r.requested_by, \
         ru.display_name AS requested_by_name, r.answer, r.answered_at, r.answered_by, \
         au.display_name AS answered_by_name FROM complement_requests r {} {}",
        actor_join("ru", "r.requested_by"),
        actor_join("au", "r.answered_by")
    )
}

impl TryFrom<ComplementRow> for ComplementRequest {
    type Error = DbError;
    fn try_from(r: ComplementRow) -> Result<Self> {
        Ok(Self {
            id: ComplementRequestId(r.id),
            candidature: CandidatureId(r.candidature_id),
            message: r.message,
            items: serde_json::from_str(&r.items).map_err(DbError::corrupt)?,
            requested_at: Timestamp::from_millis(r.requested_at),
            requested_by: r.requested_by,
            requested_by_name: r.requested_by_name,
            answer: r.answer,
            answered_at: r.answered_at.map(Timestamp::from_millis),
            answered_by: r.answered_by,
            answered_by_name: r.answered_by_name,
        })
    }
}

async fn load_complement(
    conn: &mut AnyConnection,
    id: ComplementRequestId,
) -> Result<ComplementRequest> {
    let row: ComplementRow = sqlx::query_as(&format!("{} WHERE r.id = $1", complement_select()))
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await?;
    ComplementRequest::try_from(row)
}

async fn complements_of(
    conn: &mut AnyConnection,
    candidature: CandidatureId,
) -> Result<Vec<ComplementRequest>> {
    let rows: Vec<ComplementRow> = sqlx::query_as(&format!(
        "{} WHERE r.candidature_id = $1 ORDER BY r.id",
        complement_select()
    ))
    .bind(candidature.0)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(ComplementRequest::try_from).collect()
}

impl Db {
    /// Asks the vendor for complements: the candidature (in instruction, held by the actor or
    /// by nobody) becomes complement requested, and the request (message, and per requirement
    /// a comment) is kept forever. The message is required and each requirement must be to
    /// deposit in the frozen plan ([`Refused::NotToDeposit`]); status and holder refusals as for
    /// [`Db::record_verdict`].
    pub async fn request_complements(
        &self,
        id: CandidatureId,
        items: &[(RequirementId, String)],
        message: &str,
        actor: &Actor,
    ) -> Result<ComplementRequest> {
        let user = acting_user(actor)?;
        let message = non_blank(Some(message))
            .ok_or_else(|| DbError::from(Refused::Blank(RequiredText::ComplementMessage)))?;
        let items: Vec<ComplementItem> = items
            .iter()
            .map(|(requirement, comment)| ComplementItem {
                requirement: requirement.clone(),
                comment: comment.trim().to_owned(),
            })
            .collect();
        let mut tx = self.begin_audited().await?;
        let c = stored_candidatures::load(tx.conn(), id, None).await?;
        check_instruction_act(&c, actor)?;
        let plan = c.plan.clone().unwrap_or_default();
        if let Some(item) = items
            .iter()
            .find(|i| !plan.asks_proofs_for(i.requirement.as_str()))
        {
            return Err(Refused::NotToDeposit(item.requirement.to_string()).into());
        }
        let held = hold_if_free(tx.conn(), &c, user).await?;
        let now = Timestamp::now().as_millis();
        let (request,): (i64,) = sqlx::query_as(
            "INSERT INTO complement_requests (candidature_id, message, items, requested_at, \
             requested_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(id.0)
        .bind(&message)
        .bind(serde_json::to_string(&items).map_err(DbError::corrupt)?)
        .bind(now)
        .bind(actor.to_string())
        .fetch_one(tx.conn())
        .await?;
        set_status(
            tx.conn(),
            &c,
            CandidatureStatus::ComplementRequested,
            &message,
            now,
        )
        .await?;
        tx.record(
            actor,
            "candidature.complements_requested",
            "candidature",
            &id.to_string(),
            json!({
                "request": request,
                "from": c.status,
                "to": CandidatureStatus::ComplementRequested,
                "message": message,
                "items": items,
                "now_held_by": held.then_some(user),
            }),
        )
        .await?;
        let stored = load_complement(tx.conn(), ComplementRequestId(request)).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The vendor's answer to the open complement request of a candidature of `organisation`
    /// (another organisation's gives [`DbError::NotFound`]): records the message on the request
    /// and moves the candidature back to in instruction (see the module header for why not to
    /// submitted). The message is required ([`Refused::Blank`]); a candidature not waiting for
    /// complements gives [`WorkflowConflict::NoOpenComplementRequest`].
    pub async fn answer_complements(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
        message: &str,
        actor: &Actor,
    ) -> Result<ComplementRequest> {
        let message = non_blank(Some(message))
            .ok_or_else(|| DbError::from(Refused::Blank(RequiredText::ComplementAnswer)))?;
        let mut tx = self.begin_audited().await?;
        let c = stored_candidatures::load(tx.conn(), id, Some(organisation)).await?;
        c.status.check_complement_answer()?;
        let open: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM complement_requests WHERE candidature_id = $1 \
             AND answered_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(id.0)
        .fetch_optional(tx.conn())
        .await?;
        let (request,) = open.ok_or(WorkflowConflict::NoOpenComplementRequest)?;
        let now = Timestamp::now().as_millis();
        sqlx::query(
            "UPDATE complement_requests SET answer = $1, answered_at = $2, answered_by = $3 \
             WHERE id = $4",
        )
        .bind(&message)
        .bind(now)
        .bind(actor.to_string())
        .bind(request)
        .execute(tx.conn())
        .await?;
        set_status(
            tx.conn(),
            &c,
            CandidatureStatus::InInstruction,
            &message,
            now,
        )
        .await?;
        tx.record(
            actor,
            "candidature.complements_answered",
            "candidature",
            &id.to_string(),
            json!({
                "request": request,
                "from": c.status,
                "to": CandidatureStatus::InInstruction,
                "message": message,
            }),
        )
        .await?;
        let stored = load_complement(tx.conn(), ComplementRequestId(request)).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Every complement request of a candidature with its answer, oldest first (staff).
    pub async fn list_complement_requests(
        &self,
        id: CandidatureId,
    ) -> Result<Vec<ComplementRequest>> {
        let mut conn = self.pool.acquire().await?;
        complements_of(&mut conn, id).await
    }

    /// Every complement request of a candidature of `organisation`, oldest first:
    /// [`DbError::NotFound`] when the candidature is another organisation's.
    pub async fn list_complement_requests_for(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
    ) -> Result<Vec<ComplementRequest>> {
        let mut conn = self.pool.acquire().await?;
        stored_candidatures::load(&mut conn, id, Some(organisation)).await?;
        complements_of(&mut conn, id).await
    }
}
