//! Searching the catalogue's requirements (folded text, filters, pages) and finding one
//! requirement, current or pinned, with the requirements shared through the equivalence table.

use super::*;

struct HitRow {
    rem_version_id: i64,
    code: String,
    wave: i64,
    version: i64,
    ordinal: i64,
    requirement_code: String,
    perimeter: String,
    chapter_code: String,
    chapter_label: String,
    function_label: String,
    requirement_text: String,
    profile: String,
    socle_id: Option<String>,
}

crate::row::impl_from_row!(HitRow {
    rem_version_id,
    code,
    wave,
    version,
    ordinal,
    requirement_code,
    perimeter,
    chapter_code,
    chapter_label,
    function_label,
    requirement_text,
    profile,
    socle_id
});

const HIT_SELECT: &str = "SELECT v.id AS rem_version_id, d.code, d.wave, v.version, r.ordinal, \
     r.requirement_code, r.perimeter, r.chapter_code, r.chapter_label, r.function_label, \
     r.requirement_text, r.profile, r.socle_id";

const HIT_FROM: &str = "FROM requirements r \
     JOIN rem_versions v ON v.id = r.rem_version_id \
     JOIN dispositifs d ON d.id = v.dispositif_id";

impl TryFrom<HitRow> for RequirementHit {
    type Error = DbError;
    fn try_from(r: HitRow) -> Result<Self> {
        Ok(Self {
            rem_version: RemVersionId(r.rem_version_id),
            dispositif: key_of(&r.code, r.wave)?,
            rem_version_number: r.version,
            ordinal: r.ordinal,
            id: RequirementId::parse(&r.requirement_code).map_err(DbError::corrupt)?,
            perimeter: perimeter_of(&r.perimeter)?,
            chapter_code: ChapterCode::parse(&r.chapter_code).map_err(DbError::corrupt)?,
            chapter: r.chapter_label,
            function: r.function_label,
            text: r.requirement_text,
            profile: Profile::parse(&r.profile).map_err(DbError::corrupt)?,
            socle_id: r
                .socle_id
                .as_deref()
                .map(SocleId::parse)
                .transpose()
                .map_err(DbError::corrupt)?,
        })
    }
}

impl Db {
    /// Searches the requirements of every dispositif's current REM, in dispositif then REM
    /// order.
    pub async fn search_requirements(
        &self,
        query: &RequirementQuery,
    ) -> Result<Page<RequirementHit>> {
        let mut conditions = vec![LATEST_ONLY.to_owned()];
        let mut binds = Vec::new();
        let mut push = |cond: &str, b: Bind, binds: &mut Vec<Bind>| {
            binds.push(b);
            conditions.push(cond.replace('?', &format!("${}", binds.len())));
        };
        if let Some(text) = query.text.as_deref().filter(|t| !t.trim().is_empty()) {
            push(
                "r.search_text LIKE ? ESCAPE '\\'",
                Bind::Text(contains_pattern(text)),
                &mut binds,
            );
        }
        if let Some(key) = &query.dispositif {
            push("d.code = ?", Bind::Text(key.code.to_string()), &mut binds);
            push(
                "d.wave = ?",
                Bind::Int(key.wave.number().into()),
                &mut binds,
            );
        }
        if let Some(profile) = &query.profile {
            push("r.profile = ?", Bind::Text(profile.to_string()), &mut binds);
        }
        if let Some(chapter) = &query.chapter {
            push(
                "r.chapter_code = ?",
                Bind::Text(chapter.to_string()),
                &mut binds,
            );
        }
        if let Some(perimeter) = query.perimeter {
            push(
                "r.perimeter = ?",
                Bind::Text(perimeter.label().to_owned()),
                &mut binds,
            );
        }
        let filter = format!("{HIT_FROM} WHERE {}", conditions.join(" AND "));
        let (total,): (i64,) =
            bind_all(sqlx::query_as(&format!("SELECT COUNT(*) {filter}")), &binds)
                .fetch_one(&self.pool)
                .await?;
        // A page is bounded whatever the caller asks, so one request cannot fetch everything.
        let limit = i64::from(query.limit.min(MAX_PAGE));
        let n = binds.len();
        let sql = format!(
            "{HIT_SELECT} {filter} ORDER BY d.id, r.ordinal LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows: Vec<HitRow> = bind_all(sqlx::query_as(&sql), &binds)
            .bind(limit)
            .bind(i64::from(query.offset))
            .fetch_all(&self.pool)
            .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(RequirementHit::try_from)
                .collect::<Result<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
            limit: query.limit.min(MAX_PAGE),
            offset: query.offset,
        })
    }

    /// A requirement of one REM version.
    pub async fn find_requirement(
        &self,
        rem_version: RemVersionId,
        id: &RequirementId,
    ) -> Result<Option<StoredRequirement>> {
        let Some(rem) = self.find_rem_version(rem_version).await? else {
            return Ok(None);
        };
        let row: Option<RequirementRow> = sqlx::query_as(&format!(
            "SELECT {REQUIREMENT_COLUMNS} FROM requirements \
             WHERE rem_version_id = $1 AND requirement_code = $2"
        ))
        .bind(rem_version.0)
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(StoredRequirement {
                rem: rem.clone(),
                ordinal: r.ordinal,
                requirement: Requirement::try_from(r)?,
            })
        })
        .transpose()
    }

    /// The optional profiles of a REM version (every profile but `Général`), in REM order,
    /// without loading its requirements.
    pub async fn rem_optional_profiles(&self, id: RemVersionId) -> Result<Vec<Profile>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT profile, MIN(ordinal) AS first FROM requirements WHERE rem_version_id = $1 \
             GROUP BY profile ORDER BY first",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(p, _)| {
                Profile::parse(&p)
                    .map_err(|e| DbError::corrupt(format!("stored profile `{p}`: {e}")))
            })
            .filter(|p| !matches!(p, Ok(p) if p.is_general()))
            .collect()
    }

    /// A requirement of a dispositif's current REM.
    pub async fn find_current_requirement(
        &self,
        key: &DispositifKey,
        id: &RequirementId,
    ) -> Result<Option<StoredRequirement>> {
        let Some(rem) = self.find_dispositif(key).await?.and_then(|d| d.current_rem) else {
            return Ok(None);
        };
        self.find_requirement(rem.id, id).await
    }

    /// The requirements of the other dispositifs' current REMs that are common with requirement
    /// `id` of `key`'s current REM: the same socle id, or paired by the equivalence table. In
    /// dispositif then REM order.
    pub async fn shared_requirements(
        &self,
        key: &DispositifKey,
        id: &RequirementId,
    ) -> Result<Vec<RequirementHit>> {
        let Some(this) = self.find_current_requirement(key, id).await? else {
            return Ok(Vec::new());
        };
        let latest_other = format!("{LATEST_ONLY} AND NOT (d.code = $1 AND d.wave = $2)");
        let wave = i64::from(key.wave.number());
        let mut rows: Vec<(i64, HitRow)> = Vec::new();
        if let Some(socle) = &this.requirement.socle_id {
            let found: Vec<DispositifOrdered> = sqlx::query_as(&format!(
                "{HIT_SELECT}, d.id AS dispositif_order {HIT_FROM} \
                 WHERE {latest_other} AND r.socle_id = $3"
            ))
            .bind(key.code.as_str())
            .bind(wave)
            .bind(socle.as_str())
            .fetch_all(&self.pool)
            .await?;
            rows.extend(found.into_iter().map(|f| (f.dispositif_order, f.hit)));
        }
        for (code, req) in self.list_equivalences().await?.into_iter().filter_map(|p| {
            if p.a.0 == key.code && &p.a.1 == id {
                Some(p.b)
            } else if p.b.0 == key.code && &p.b.1 == id {
                Some(p.a)
            } else {
                None
            }
        }) {
            let found: Vec<DispositifOrdered> = sqlx::query_as(&format!(
                "{HIT_SELECT}, d.id AS dispositif_order {HIT_FROM} \
                 WHERE {latest_other} AND d.code = $3 AND d.wave = 2 AND r.requirement_code = $4"
            ))
            .bind(key.code.as_str())
            .bind(wave)
            .bind(code.as_str())
            .bind(req.as_str())
            .fetch_all(&self.pool)
            .await?;
            rows.extend(found.into_iter().map(|f| (f.dispositif_order, f.hit)));
        }
        rows.sort_by_key(|(order, hit)| (*order, hit.ordinal));
        rows.dedup_by_key(|(_, hit)| (hit.rem_version_id, hit.ordinal));
        rows.into_iter()
            .map(|(_, hit)| RequirementHit::try_from(hit))
            .collect()
    }
}

struct DispositifOrdered {
    dispositif_order: i64,
    hit: HitRow,
}

crate::row::impl_from_row!(DispositifOrdered { dispositif_order } flatten { hit });
