//! Row decoding without sqlx's procedural macros.
//!
//! `#[derive(sqlx::FromRow)]` and `sqlx::migrate!` pull `sqlx-macros`, which compiles SQLite (C
//! code), both drivers and `sqlx-core` a second time for the build host: minutes of every cold
//! build for two conveniences. [`impl_from_row!`] writes the same `FromRow` impl by column name,
//! and the migrations are embedded by `include_str!` in `migrations.rs`.

/// Implements `sqlx::FromRow<AnyRow>` for a struct whose fields are named like the columns of
/// the query; the fields listed after `flatten` are decoded from the same row by their own impl.
macro_rules! impl_from_row {
    ($name:ident { $($field:ident),* $(,)? } $(flatten { $($flat:ident),* $(,)? })?) => {
        impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for $name {
            fn from_row(row: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
                Ok(Self {
                    $($field: sqlx::Row::try_get(row, stringify!($field))?,)*
                    $($($flat: sqlx::FromRow::from_row(row)?,)*)?
                })
            }
        }
    };
}

pub(crate) use impl_from_row;
