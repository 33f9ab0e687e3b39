//! Open edX's account API as a use case: reading an account (in full for its
//! owner and site staff, a few public fields for anyone else) and changing
//! it with a JSON merge patch. Field names and choices are Open edX's so that
//! its clients work unchanged; every value is bounded.

use std::collections::BTreeMap;

use chrono::Datelike;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};
use crate::model::User;
use crate::Lectern;

/// The optional profile fields a user may set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub bio: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub state: Option<String>,
    pub language: Option<String>,
    pub level_of_education: Option<String>,
    pub gender: Option<String>,
    pub goals: Option<String>,
    pub mailing_address: Option<String>,
    pub year_of_birth: Option<i32>,
    /// Language codes, e.g. `["en", "fr"]`.
    pub language_proficiencies: Vec<String>,
}

/// Open edX's `level_of_education` codes.
pub const EDUCATION_LEVELS: &[&str] = &["p", "m", "b", "a", "hs", "jhs", "el", "none", "other"];
/// Open edX's `gender` codes.
pub const GENDERS: &[&str] = &["m", "f", "o"];
/// Open edX's limit on `bio`.
pub const BIO_MAX_CHARS: usize = 300;
const TEXT_MAX_CHARS: usize = 5000;
const SHORT_MAX_CHARS: usize = 255;
const MAX_LANGUAGES: usize = 10;

/// Fields an account has that this API never changes.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "username",
    "email",
    "id",
    "date_joined",
    "last_login",
    "is_active",
    "profile_image",
    "requires_parental_consent",
    "account_privacy",
    "secondary_email",
];

/// What a caller may see of an account.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub user: User,
    pub profile: Profile,
    /// Owner or site staff: every field; anyone else: the public ones.
    pub full: bool,
}

impl Lectern {
    /// An account as `viewer` may see it; an unknown username is a 404.
    pub async fn account(&self, viewer: &User, username: &str) -> AppResult<AccountView> {
        let user = self.account_owner(username).await?;
        let full = viewer.id == user.id || viewer.is_admin;
        let profile = self.store.profile(user.id).await?;
        Ok(AccountView {
            user,
            profile,
            full,
        })
    }

    /// Applies a merge patch to the caller's own account. Every problem is
    /// reported at once, keyed by field; nothing changes unless all is valid.
    /// Fields this API does not know are ignored, as Open edX does.
    pub async fn patch_account(
        &self,
        viewer: &User,
        username: &str,
        patch: &Map<String, Value>,
    ) -> AppResult<AccountView> {
        let user = self.account_owner(username).await?;
        if viewer.id != user.id {
            return Err(AppError::Forbidden(
                "You may only change your own account.".into(),
            ));
        }
        let mut profile = self.store.profile(user.id).await?;
        let mut name = user.name.clone();
        let this_year = self.now().year();
        let mut errors = BTreeMap::new();
        for (field, value) in patch {
            if READ_ONLY_FIELDS.contains(&field.as_str()) {
                errors.insert(
                    field.clone(),
                    "This field is not editable via this API".to_string(),
                );
                continue;
            }
            if let Err(message) = apply(&mut profile, &mut name, field, value, this_year) {
                errors.insert(field.clone(), message);
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid {
                message: "Some fields could not be changed; nothing was saved.".into(),
                field_errors: errors,
            });
        }
        self.store.update_account(user.id, &name, &profile).await?;
        self.forget_cached_user(user.id);
        let user = self.account_owner(username).await?;
        Ok(AccountView {
            user,
            profile,
            full: true,
        })
    }

    async fn account_owner(&self, username: &str) -> AppResult<User> {
        if username.len() > 30 {
            return Err(AppError::not_found(format!("account {username}")));
        }
        self.store
            .user_by_username(username)
            .await?
            .ok_or_else(|| AppError::not_found(format!("account {username}")))
    }
}

/// Sets one field from its JSON value, or says why it cannot.
fn apply(
    profile: &mut Profile,
    name: &mut String,
    field: &str,
    value: &Value,
    this_year: i32,
) -> Result<(), String> {
    match field {
        "name" => {
            let v = value.as_str().map(str::trim).unwrap_or_default();
            if v.is_empty() {
                return Err("The name field must be at least 1 character long.".into());
            }
            if v.chars().count() > SHORT_MAX_CHARS {
                return Err(format!(
                    "The name field must be at most {SHORT_MAX_CHARS} characters long."
                ));
            }
            *name = v.to_string();
        }
        "bio" => profile.bio = text(value, BIO_MAX_CHARS)?,
        "state" => profile.state = text(value, SHORT_MAX_CHARS)?,
        "language" => profile.language = text(value, SHORT_MAX_CHARS)?,
        "goals" => profile.goals = text(value, TEXT_MAX_CHARS)?,
        "mailing_address" => profile.mailing_address = text(value, TEXT_MAX_CHARS)?,
        "country" => {
            profile.country = match text(value, 2)? {
                None => None,
                Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    Some(c.to_ascii_uppercase())
                }
                Some(c) => return Err(format!("{c:?} is not a valid country code.")),
            }
        }
        "level_of_education" => profile.level_of_education = choice(value, EDUCATION_LEVELS)?,
        "gender" => profile.gender = choice(value, GENDERS)?,
        "year_of_birth" => {
            profile.year_of_birth = match value {
                Value::Null => None,
                Value::String(s) if s.is_empty() => None,
                v => {
                    let year = v
                        .as_i64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                        .ok_or_else(|| "year_of_birth must be a year.".to_string())?;
                    if year < i64::from(this_year) - 120 || year > i64::from(this_year) {
                        return Err(format!("{year} is not a valid year of birth."));
                    }
                    Some(year as i32)
                }
            }
        }
        "language_proficiencies" => {
            let items = match value {
                Value::Null => Vec::new(),
                Value::Array(items) => items.clone(),
                _ => return Err("language_proficiencies must be a list.".into()),
            };
            if items.len() > MAX_LANGUAGES {
                return Err(format!("At most {MAX_LANGUAGES} languages may be listed."));
            }
            let mut codes: Vec<String> = Vec::new();
            for item in &items {
                let code = item
                    .get("code")
                    .and_then(Value::as_str)
                    .filter(|c| {
                        !c.is_empty()
                            && c.len() <= 16
                            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
                    .ok_or_else(|| "Each language must be {\"code\": \"xx\"}.".to_string())?;
                if codes.iter().any(|c| c == code) {
                    return Err(format!("The language {code} is listed twice."));
                }
                codes.push(code.to_string());
            }
            profile.language_proficiencies = codes;
        }
        // Unknown fields are ignored, as Open edX ignores them.
        _ => {}
    }
    Ok(())
}

/// An optional text of at most `max` characters (`null` or `""` clears it).
fn text(value: &Value, max: usize) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) if s.chars().count() > max => {
            Err(format!("This value must be at most {max} characters long."))
        }
        Value::String(s) => Ok(Some(s.trim().to_string())),
        _ => Err("This value must be a string.".into()),
    }
}

fn choice(value: &Value, allowed: &[&str]) -> Result<Option<String>, String> {
    match text(value, 16)? {
        None => Ok(None),
        Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
        Some(v) => Err(format!(
            "{v:?} is not one of the choices: {}.",
            allowed.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_validated_and_cleared_with_null() {
        let mut p = Profile::default();
        let mut name = "A".to_string();
        assert!(apply(&mut p, &mut name, "country", &json!("fr"), 2026).is_ok());
        assert_eq!(p.country.as_deref(), Some("FR"));
        assert!(apply(&mut p, &mut name, "country", &json!("France"), 2026).is_err());
        assert!(apply(&mut p, &mut name, "country", &Value::Null, 2026).is_ok());
        assert_eq!(p.country, None);
        assert!(apply(&mut p, &mut name, "bio", &json!("x".repeat(301)), 2026).is_err());
        assert!(apply(&mut p, &mut name, "year_of_birth", &json!(1990), 2026).is_ok());
        assert!(apply(&mut p, &mut name, "year_of_birth", &json!(1800), 2026).is_err());
        assert!(apply(&mut p, &mut name, "level_of_education", &json!("zz"), 2026).is_err());
        assert!(apply(&mut p, &mut name, "name", &json!(""), 2026).is_err());
        let langs = json!([{"code": "en"}, {"code": "fr"}]);
        assert!(apply(&mut p, &mut name, "language_proficiencies", &langs, 2026).is_ok());
        assert_eq!(p.language_proficiencies, vec!["en", "fr"]);
        let twice = json!([{"code": "en"}, {"code": "en"}]);
        assert!(apply(&mut p, &mut name, "language_proficiencies", &twice, 2026).is_err());
    }
}
