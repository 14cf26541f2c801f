//! The administrative step of a candidature as a transport-neutral input, and its one
//! validation: the page parses its form into [`StepInput`] (splitting its textareas), the API
//! deserialises its JSON into it; both get every field at fault at once, named by the API's JSON
//! key (`solution`, `version`, `optional_profiles`, `nrus`, `additional_components`,
//! `commercial_names`, `dispositif`, `wave`). Only the syntax and the limits are checked here;
//! what the rules decide (R1–R10, `docs/rules.md`) is the engine's.

use preuves_db::{AdministrativeStep, HonourStatement, Solution, SolutionId};
use preuves_domain::{
    AdditionalComponent, ChapterCode, DispositifCode, DispositifKey, Nru, Profile, RefusalCode,
    Version, Wave,
};

use super::fields::{MAX_ITEMS, MAX_NAME, clean_list, invalid};
use crate::AppState;
use crate::error::{AppError, ErrorItem};
use crate::forms::sentence;

/// The dispositif a candidature to open targets, as sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct TargetInput {
    /// The dispositif's code (`DUI-MS`).
    pub(crate) dispositif: String,
    /// Its wave (a candidature targets wave 2).
    pub(crate) wave: i64,
}

impl TargetInput {
    /// The page's choice `CODE-N` (`DUI-MS-2`); a value without a wave targets wave 2.
    pub(crate) fn from_choice(raw: &str) -> Self {
        let raw = raw.trim();
        match raw.rsplit_once('-').map(|(c, w)| (c, w.parse::<i64>())) {
            Some((code, Ok(wave))) => Self {
                dispositif: code.to_owned(),
                wave,
            },
            _ => Self {
                dispositif: raw.to_owned(),
                wave: 2,
            },
        }
    }
}

/// The page's choice value of a dispositif: `DUI-MS-2`.
pub(crate) fn choice_of(key: &DispositifKey) -> String {
    format!("{}-{}", key.code, key.wave.number())
}

/// The target of a new candidature: a vague-2 dispositif whose REM is published, or the
/// errors naming `dispositif` or `wave` with the engine's codes.
pub(crate) async fn validate_target(
    state: &AppState,
    t: &TargetInput,
) -> Result<Result<DispositifKey, Vec<ErrorItem>>, AppError> {
    let refuse = |code: RefusalCode, field: &str, message: String| {
        Ok(Err(vec![ErrorItem::field(code.as_str(), field, message)]))
    };
    let raw = t.dispositif.trim();
    if raw.is_empty() {
        return refuse(
            RefusalCode::UnknownDispositif,
            "dispositif",
            "Choisissez le dispositif visé (un dispositif de vague\u{a0}2 dont le REM est publié)."
                .to_owned(),
        );
    }
    let Ok(code) = DispositifCode::parse(raw) else {
        return refuse(
            RefusalCode::UnknownDispositif,
            "dispositif",
            "Ce code de dispositif est mal formé.".to_owned(),
        );
    };
    let Some(wave) = Wave::from_number(t.wave) else {
        return Ok(Err(vec![invalid("wave", "La vague est 1 ou 2.")]));
    };
    let key = DispositifKey { code, wave };
    match state.db.find_dispositif(&key).await? {
        Some(_) if wave == Wave::One => refuse(
            RefusalCode::TargetNotVague2,
            "wave",
            format!(
                "{} est un dispositif de vague\u{a0}1\u{a0}: une candidature vise un dispositif de vague\u{a0}2.",
                key.code
            ),
        ),
        Some(d) if d.current_rem.is_some() => Ok(Ok(key)),
        _ => refuse(
            RefusalCode::UnknownDispositif,
            "dispositif",
            format!(
                "Aucun dispositif {} de vague\u{a0}{} dont le REM est publié.",
                key.code,
                key.wave.number()
            ),
        ),
    }
}

/// An additional component and the chapters it is attached to (R7), as sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct ComponentInput {
    /// Its name.
    pub(crate) name: String,
    /// Its chapter codes (`INS`...).
    pub(crate) chapters: Vec<String>,
}

/// The administrative step, as sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepInput {
    /// The solution's id (`None` when none was chosen or the value is not a number).
    pub(crate) solution: Option<i64>,
    /// The candidate version.
    pub(crate) version: String,
    /// The optional profiles chosen (`Général` always applies and is ignored).
    pub(crate) optional_profiles: Vec<String>,
    /// The NRUs held.
    pub(crate) nrus: Vec<String>,
    /// The additional components (R7).
    pub(crate) additional_components: Vec<ComponentInput>,
    /// The commercial names (R6).
    pub(crate) commercial_names: Vec<String>,
}

/// A step judged on its syntax: the solution found, the step when every field is right, and
/// every field at fault.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepCheck {
    /// The vendor's solution chosen, if it is one.
    pub(crate) solution: Option<Solution>,
    /// The step, when no field is at fault.
    pub(crate) step: Option<AdministrativeStep>,
    /// Every field at fault, in field order.
    pub(crate) errors: Vec<ErrorItem>,
}

impl StepInput {
    /// Checks every field against the vendor's `solutions`; a valid step keeps `honour` (the
    /// sworn statement already given, which the step form does not carry).
    pub(crate) fn check(
        &self,
        solutions: &[Solution],
        honour: Option<HonourStatement>,
    ) -> StepCheck {
        let mut errors = Vec::new();
        let solution = match self.solution {
            None => {
                errors.push(invalid("solution", "Choisissez la solution candidate."));
                None
            }
            Some(id) => {
                let found = solutions.iter().find(|s| s.id == SolutionId(id)).cloned();
                if found.is_none() {
                    errors.push(invalid(
                        "solution",
                        "Cette solution n'est pas l'une de celles de votre organisation.",
                    ));
                }
                found
            }
        };
        let version = if self.version.trim().is_empty() {
            errors.push(invalid("version", "Saisissez la version candidate."));
            None
        } else {
            Version::parse(self.version.trim())
                .map_err(|e| errors.push(invalid("version", sentence(&e))))
                .ok()
        };
        let optional_profiles = self.profiles(&mut errors);
        let nrus = self.parsed_nrus(&mut errors);
        let additional_components = self.components(&mut errors);
        let commercial_names = clean_list(&self.commercial_names);
        if commercial_names.len() > MAX_ITEMS
            || commercial_names
                .iter()
                .any(|n| n.chars().count() > MAX_NAME)
        {
            errors.push(invalid(
                "commercial_names",
                format!(
                    "{MAX_ITEMS} noms commerciaux au plus, de {MAX_NAME} caractères au plus chacun."
                ),
            ));
        }
        let step = match (&solution, version) {
            (Some(s), Some(version)) if errors.is_empty() => Some(AdministrativeStep {
                solution: s.id,
                optional_profiles,
                version,
                nrus,
                additional_components,
                commercial_names,
                honour_statement: honour,
            }),
            _ => None,
        };
        StepCheck {
            solution,
            step,
            errors,
        }
    }

    fn profiles(&self, errors: &mut Vec<ErrorItem>) -> Vec<Profile> {
        let mut out: Vec<Profile> = Vec::new();
        for raw in &self.optional_profiles {
            match Profile::parse(raw.trim()) {
                Ok(p) if !out.contains(&p) && !p.is_general() => out.push(p),
                Ok(_) => {}
                Err(e) => errors.push(invalid("optional_profiles", sentence(&e))),
            }
        }
        out
    }

    fn parsed_nrus(&self, errors: &mut Vec<ErrorItem>) -> Vec<Nru> {
        let (nrus, bad) = parse_nrus(&self.nrus);
        if !bad.is_empty() {
            errors.push(invalid("nrus", malformed_nrus(&bad)));
        }
        if nrus.len() > MAX_ITEMS {
            errors.push(invalid("nrus", format!("{MAX_ITEMS} NRU au plus.")));
        }
        nrus
    }

    fn components(&self, errors: &mut Vec<ErrorItem>) -> Vec<AdditionalComponent> {
        let field = "additional_components";
        let mut out: Vec<AdditionalComponent> = Vec::new();
        for (i, c) in self.additional_components.iter().enumerate() {
            let name = c.name.trim();
            if name.is_empty() {
                errors.push(invalid(
                    field,
                    format!(
                        "Composant additionnel n°\u{a0}{}\u{a0}: saisissez son nom.",
                        i + 1
                    ),
                ));
                continue;
            }
            if name.chars().count() > MAX_NAME {
                errors.push(invalid(
                    field,
                    format!(
                        "Composant additionnel n°\u{a0}{}\u{a0}: son nom compte au plus {MAX_NAME} caractères.",
                        i + 1
                    ),
                ));
                continue;
            }
            let mut chapters: Vec<ChapterCode> = Vec::new();
            for raw in c
                .chapters
                .iter()
                .map(|r| r.trim())
                .filter(|r| !r.is_empty())
            {
                match ChapterCode::parse(raw) {
                    Ok(code) if !chapters.contains(&code) => chapters.push(code),
                    Ok(_) => {}
                    Err(e) => {
                        errors.push(invalid(field, format!("{name}\u{a0}: {}", sentence(&e))))
                    }
                }
            }
            if chapters.is_empty() {
                errors.push(invalid(
                    field,
                    format!(
                        "Le composant «\u{a0}{name}\u{a0}» doit être rattaché à au moins un chapitre (règle R7)."
                    ),
                ));
            }
            out.push(AdditionalComponent {
                name: name.to_owned(),
                chapters,
            });
        }
        if out.len() > MAX_ITEMS {
            errors.push(invalid(field, format!("{MAX_ITEMS} composants au plus.")));
        }
        out
    }
}

/// The NRUs of a list (trimmed, blanks skipped, duplicates once) and the items that are not
/// NRUs, as typed.
pub(crate) fn parse_nrus(raw: &[String]) -> (Vec<Nru>, Vec<String>) {
    let mut nrus: Vec<Nru> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    for item in raw.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        match Nru::parse(item) {
            Ok(n) if !nrus.contains(&n) => nrus.push(n),
            Ok(_) => {}
            Err(_) => bad.push(item.to_owned()),
        }
    }
    (nrus, bad)
}

/// The message naming every malformed NRU at once.
pub(crate) fn malformed_nrus(bad: &[String]) -> String {
    format!(
        "{} {}\u{a0}: un NRU ne contient que des lettres, des chiffres et des tirets.",
        if bad.len() > 1 {
            "NRU mal formés"
        } else {
            "NRU mal formé"
        },
        bad.iter()
            .map(|b| format!("«\u{a0}{b}\u{a0}»"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(c: &StepCheck) -> Vec<&str> {
        c.errors.iter().filter_map(|e| e.field.as_deref()).collect()
    }

    #[test]
    fn a_choice_value_names_code_and_wave() {
        let t = TargetInput::from_choice(" DUI-MS-2 ");
        assert_eq!((t.dispositif.as_str(), t.wave), ("DUI-MS", 2));
        let t = TargetInput::from_choice("XYZ");
        assert_eq!((t.dispositif.as_str(), t.wave), ("XYZ", 2));
    }

    #[test]
    fn every_field_at_fault_is_named_by_its_json_key() {
        let input = StepInput {
            solution: None,
            version: String::new(),
            optional_profiles: vec![" ".to_owned()],
            nrus: vec!["pas un NRU !".to_owned(), "REF-1".to_owned()],
            additional_components: vec![ComponentInput {
                name: "Module".to_owned(),
                chapters: Vec::new(),
            }],
            commercial_names: vec!["x".repeat(MAX_NAME + 1)],
        };
        let checked = input.check(&[], None);
        assert!(checked.step.is_none());
        assert_eq!(
            fields(&checked),
            [
                "solution",
                "version",
                "optional_profiles",
                "nrus",
                "additional_components",
                "commercial_names"
            ]
        );
        assert!(checked.errors.iter().all(|e| e.code == "invalid_field"));
        assert!(
            checked.errors[3]
                .message
                .contains("«\u{a0}pas un NRU !\u{a0}»"),
            "{:?}",
            checked.errors[3]
        );
    }

    #[test]
    fn lists_are_limited_and_names_deduplicated() {
        let input = StepInput {
            solution: Some(1),
            version: "1.0".to_owned(),
            nrus: (0..=MAX_ITEMS).map(|i| format!("REF-{i}")).collect(),
            commercial_names: vec!["A".to_owned(), " A ".to_owned(), String::new()],
            ..StepInput::default()
        };
        let checked = input.check(&[], None);
        assert!(
            checked
                .errors
                .iter()
                .any(|e| e.message == format!("{MAX_ITEMS} NRU au plus."))
        );
        assert_eq!(clean_list(&input.commercial_names), ["A"]);
    }

    #[test]
    fn unnamed_and_overlong_components_are_refused_by_position() {
        let input = StepInput {
            additional_components: vec![
                ComponentInput {
                    name: " ".to_owned(),
                    chapters: vec!["INS".to_owned()],
                },
                ComponentInput {
                    name: "y".repeat(MAX_NAME + 1),
                    chapters: vec!["INS".to_owned()],
                },
            ],
            ..StepInput::default()
        };
        let checked = input.check(&[], None);
        let messages: Vec<&str> = checked
            .errors
            .iter()
            .filter(|e| e.field.as_deref() == Some("additional_components"))
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("n°\u{a0}1"));
        assert!(messages[1].contains("n°\u{a0}2"));
    }
}
