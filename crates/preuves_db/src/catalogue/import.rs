//! Writing the catalogue: dispositifs, REM imports (always a new version) and the equivalence
//! table, each in one audited transaction that also bumps the catalogue's revision.

use super::*;
use crate::error::Refused;

impl Db {
    /// Creates or updates the dispositifs of a loaded catalogue (name, corridor, date 2,
    /// predecessors, vague-1 profiles), keyed by code and wave; REMs are not touched. Returns how
    /// many were created or changed; each of those gets an audit entry.
    pub async fn upsert_dispositifs(&self, catalogue: &Catalogue, actor: &Actor) -> Result<usize> {
        let mut tx = self.begin_audited().await?;
        let now = Timestamp::now().as_millis();
        let mut changed = 0;
        for d in catalogue.dispositifs() {
            let wave = i64::from(d.key.wave.number());
            let date2 = d.date2.map(|x| x.to_string());
            let opens_on = d.opens_on.map(|x| x.to_string());
            let predecessors = to_json(&d.predecessors)?;
            let profiles = to_json(&d.wave1_profiles)?;
            let existing: Option<DispositifRow> = sqlx::query_as(&format!(
                "SELECT {DISPOSITIF_COLUMNS} FROM dispositifs WHERE code = $1 AND wave = $2"
            ))
            .bind(d.key.code.as_str())
            .bind(wave)
            .fetch_optional(tx.conn())
            .await?;
            let same = existing.as_ref().is_some_and(|e| {
                e.name == d.name
                    && e.corridor == d.corridor
                    && e.date2 == date2
                    && e.opens_on == opens_on
                    && e.predecessors == predecessors
                    && e.wave1_profiles == profiles
            });
            if same {
                continue;
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO dispositifs \
                 (code, wave, name, corridor, date2, predecessors, wave1_profiles, created_at, updated_at, \
                 opens_on) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) \
                 ON CONFLICT (code, wave) DO UPDATE SET name = excluded.name, \
                 corridor = excluded.corridor, date2 = excluded.date2, opens_on = excluded.opens_on, \
                 predecessors = excluded.predecessors, wave1_profiles = excluded.wave1_profiles, \
                 updated_at = excluded.updated_at \
                 RETURNING id",
            )
            .bind(d.key.code.as_str())
            .bind(wave)
            .bind(&d.name)
            .bind(&d.corridor)
            .bind(date2.as_deref())
            .bind(&predecessors)
            .bind(&profiles)
            .bind(now)
            .bind(opens_on.as_deref())
            .fetch_one(tx.conn())
            .await?;
            let action = if existing.is_some() {
                "dispositif.update"
            } else {
                "dispositif.create"
            };
            tx.record(
                actor,
                action,
                "dispositif",
                &id.to_string(),
                json!({
                    "code": d.key.code, "wave": d.key.wave, "name": d.name,
                    "corridor": d.corridor, "date2": date2, "opens_on": opens_on,
                    "predecessors": d.predecessors, "wave1_profiles": d.wave1_profiles,
                }),
            )
            .await?;
            changed += 1;
        }
        if changed > 0 {
            bump_revision(tx.conn()).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Stores `rem` as a new version of the REM of the (vague-2) dispositif `key`, in one
    /// transaction with its audit entry. `sha256` and `rows` describe the source file. No import
    /// report is kept (see [`Db::import_rem_version_with_report`]).
    pub async fn import_rem_version(
        &self,
        key: &DispositifKey,
        rem: &Rem,
        source_name: &str,
        sha256: &str,
        rows: i64,
        actor: &Actor,
    ) -> Result<RemVersion> {
        self.import_rem_version_with_report(key, rem, source_name, sha256, rows, None, None, actor)
            .await
    }

    /// Like [`Db::import_rem_version`], keeping with the version the importer's report (its
    /// warnings, as JSON text; the shape is the caller's), in the same transaction. The report
    /// is read back by [`Db::rem_version_report`].
    ///
    /// `label` is the REM's own version label; without one, the version gets the first integer
    /// from its import number up that the dispositif does not use yet (`1`, `2`, ...). A label the
    /// dispositif already has is refused with [`UniqueConstraint::RemVersionLabel`].
    ///
    /// [`UniqueConstraint::RemVersionLabel`]: crate::UniqueConstraint::RemVersionLabel
    #[expect(clippy::too_many_arguments, reason = "one row's columns")]
    pub async fn import_rem_version_with_report(
        &self,
        key: &DispositifKey,
        rem: &Rem,
        source_name: &str,
        sha256: &str,
        rows: i64,
        label: Option<&RemVersionLabel>,
        report: Option<&str>,
        actor: &Actor,
    ) -> Result<RemVersion> {
        let mut tx = self.begin_audited().await?;
        let dispositif = dispositif_row(tx.conn(), key).await?;
        if key.wave != Wave::Two {
            return Err(Refused::RemOnVague1(key.clone()).into());
        }
        let (next,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM rem_versions WHERE dispositif_id = $1",
        )
        .bind(dispositif.id)
        .fetch_one(tx.conn())
        .await?;
        let taken: Vec<(String,)> =
            sqlx::query_as("SELECT label FROM rem_versions WHERE dispositif_id = $1")
                .bind(dispositif.id)
                .fetch_all(tx.conn())
                .await?;
        let label = match label {
            Some(l) => l.clone(),
            None => {
                let mut n = next;
                while taken.iter().any(|(t,)| *t == n.to_string()) {
                    n += 1;
                }
                RemVersionLabel::parse(&n.to_string()).map_err(DbError::corrupt)?
            }
        };
        let now = Timestamp::now().as_millis();
        let count = i64::try_from(rem.requirements().len()).unwrap_or(i64::MAX);
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO rem_versions (dispositif_id, version, label, source_name, sha256, \
             row_count, requirement_count, imported_at, imported_by, report) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(dispositif.id)
        .bind(next)
        .bind(label.as_str())
        .bind(source_name)
        .bind(sha256)
        .bind(rows)
        .bind(count)
        .bind(now)
        .bind(actor.to_string())
        .bind(report)
        .fetch_one(tx.conn())
        .await?;
        for (ordinal, r) in rem.requirements().iter().enumerate() {
            let search = fold(&format!(
                "{} {} {} {} {} {}",
                r.id,
                r.chapter,
                r.function,
                r.text,
                r.comment,
                r.socle_id.as_ref().map_or("", |s| s.as_str())
            ));
            sqlx::query(
                "INSERT INTO requirements (rem_version_id, ordinal, requirement_code, perimeter, \
                 chapter_code, chapter_label, function_label, requirement_text, comment_text, \
                 profile, historical_profile, criticality, socle_id, wave1_id, scenarios, \
                 search_text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
            .bind(id)
            .bind(i64::try_from(ordinal).unwrap_or(i64::MAX))
            .bind(r.id.as_str())
            .bind(r.perimeter.label())
            .bind(r.chapter_code.as_str())
            .bind(&r.chapter)
            .bind(&r.function)
            .bind(&r.text)
            .bind(&r.comment)
            .bind(r.profile.as_str())
            .bind(&r.historical_profile)
            .bind(&r.criticality)
            .bind(r.socle_id.as_ref().map(|s| s.as_str()))
            .bind(r.wave1_id.as_deref())
            .bind(scenarios_json(&r.scenarios)?)
            .bind(search)
            .execute(tx.conn())
            .await?;
        }
        bump_revision(tx.conn()).await?;
        tx.record(
            actor,
            "rem.import",
            "rem_version",
            &id.to_string(),
            json!({
                "dispositif": { "code": key.code, "wave": key.wave },
                "version": next, "label": label, "source_name": source_name, "sha256": sha256,
                "rows": rows, "requirements": count,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(RemVersion {
            id: RemVersionId(id),
            dispositif: key.clone(),
            version: next,
            label,
            source_name: source_name.to_owned(),
            sha256: sha256.to_owned(),
            row_count: rows,
            requirement_count: count,
            imported_at: Timestamp::from_millis(now),
            imported_by: actor.to_string(),
        })
    }

    /// Stores a whole loaded catalogue (the demo catalogue, a catalogue directory): upserts the
    /// dispositifs, imports a new REM version for each vague-2 dispositif whose REM differs from
    /// its current one, and replaces the equivalence table if it differs. Running it again on
    /// the same catalogue changes nothing. Each step is its own transaction.
    pub async fn import_catalogue(
        &self,
        catalogue: &Catalogue,
        equivalences: &[EquivalencePair],
        source_name: &str,
        actor: &Actor,
    ) -> Result<CatalogueSeed> {
        let mut seed = CatalogueSeed {
            dispositifs_changed: self.upsert_dispositifs(catalogue, actor).await?,
            ..CatalogueSeed::default()
        };
        let current: HashMap<DispositifKey, RemVersionId> = self
            .list_dispositifs()
            .await?
            .into_iter()
            .filter_map(|d| Some((d.key, d.current_rem?.id)))
            .collect();
        for d in catalogue.dispositifs() {
            let Some(rem) = &d.rem else { continue };
            if let Some(&id) = current.get(&d.key)
                && self
                    .load_rem(id)
                    .await?
                    .is_some_and(|(_, stored)| &stored == rem)
            {
                continue;
            }
            let version = self
                .import_rem_version_with_report(
                    &d.key,
                    rem,
                    source_name,
                    &rem_digest(rem)?,
                    rem_rows(rem),
                    Some(&d.rem_version),
                    None,
                    actor,
                )
                .await?;
            seed.rem_versions.push(version);
        }
        if self.list_equivalences().await? != equivalences {
            self.replace_equivalences(equivalences, actor).await?;
            seed.equivalences_replaced = true;
        }
        Ok(seed)
    }

    /// Replaces the whole equivalence table.
    pub async fn replace_equivalences(
        &self,
        pairs: &[EquivalencePair],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin_audited().await?;
        sqlx::query("DELETE FROM equivalence_pairs")
            .execute(tx.conn())
            .await?;
        for p in pairs {
            sqlx::query(
                "INSERT INTO equivalence_pairs (a_dispositif, a_requirement, b_dispositif, b_requirement) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(p.a.0.as_str())
            .bind(p.a.1.as_str())
            .bind(p.b.0.as_str())
            .bind(p.b.1.as_str())
            .execute(tx.conn())
            .await?;
        }
        bump_revision(tx.conn()).await?;
        let listed: Vec<_> = pairs
            .iter()
            .map(|p| json!([p.a.0, p.a.1, p.b.0, p.b.1]))
            .collect();
        tx.record(
            actor,
            "equivalences.replace",
            "equivalence_table",
            "-",
            json!({ "pairs": listed }),
        )
        .await?;
        tx.commit().await
    }
}
