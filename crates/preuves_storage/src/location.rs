//! Where the blobs live, parsed from the operator's configuration.
//!
//! Parsing is separate from connecting, so that every accepted form is tested whether or not
//! the binary was built with S3 support. Accepted forms:
//!
//! - empty: the `blobs` folder inside the data folder (the default);
//! - a plain path: absolute, or relative to the data folder;
//! - `file:///absolute/path`;
//! - `memory://` (tests and demos: lost at exit);
//! - `s3://bucket[/prefix]?endpoint=http://127.0.0.1:9000&region=eu-west-3[&allow_http=true]`;
//!   credentials come from the standard AWS environment variables (`AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`...), never from the URL.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::StorageError;

/// The folder used inside the data folder when no blob store URL is configured.
pub const DEFAULT_LOCAL_FOLDER: &str = "blobs";

/// A parsed blob store location.
#[derive(Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// A folder on the local file system.
    Local(PathBuf),
    /// An in-memory store.
    Memory,
    /// An S3-compatible bucket.
    S3(S3Location),
}

/// An S3-compatible bucket, with an optional key prefix inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket name.
    pub bucket: String,
    /// A prefix under which every key is stored (no leading or trailing `/`), if any.
    pub prefix: Option<String>,
    /// The endpoint of an S3-compatible server (MinIO, Garage...); AWS when absent.
    pub endpoint: Option<String>,
    /// The region; `AWS_REGION` or `AWS_DEFAULT_REGION` (then `us-east-1`) when absent.
    pub region: Option<String>,
    /// Whether plain `http://` is allowed: true when the endpoint is `http://`, or when
    /// `allow_http=true` is given.
    pub allow_http: bool,
}

impl fmt::Debug for BlobLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(path) => f.debug_tuple("Local").field(path).finish(),
            Self::Memory => f.write_str("Memory"),
            Self::S3(s3) => s3.fmt(f),
        }
    }
}

impl BlobLocation {
    /// Parses a blob store URL or path; relative paths are taken inside `data_dir`.
    pub fn parse(url: &str, data_dir: &Path) -> Result<Self, StorageError> {
        let url = url.trim();
        if url.is_empty() {
            return Ok(Self::Local(data_dir.join(DEFAULT_LOCAL_FOLDER)));
        }
        let Some((scheme, _)) = url.split_once("://") else {
            // No scheme: a plain path.
            return Ok(Self::Local(data_dir.join(url)));
        };
        match scheme {
            "memory" => {
                if url != "memory://" && url != "memory:///" {
                    return Err(config("a memory store takes no path: use \"memory://\""));
                }
                Ok(Self::Memory)
            }
            "file" => parse_file(url),
            "s3" => parse_s3(url).map(Self::S3),
            other => Err(config(format!(
                "unsupported blob store scheme {other:?}: use a path, file://, memory:// or s3://"
            ))),
        }
    }
}

fn parse_file(url: &str) -> Result<BlobLocation, StorageError> {
    let parsed = url::Url::parse(url).map_err(|e| config(format!("invalid URL {url:?}: {e}")))?;
    if parsed
        .host_str()
        .is_some_and(|h| !h.is_empty() && h != "localhost")
    {
        return Err(config(format!(
            "{url:?}: a file URL must be file:///absolute/path (no host)"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(config(format!(
            "{url:?}: a file URL takes no query or fragment"
        )));
    }
    let path = parsed
        .to_file_path()
        .map_err(|()| config(format!("{url:?} is not an absolute file path")))?;
    Ok(BlobLocation::Local(path))
}

fn parse_s3(url: &str) -> Result<S3Location, StorageError> {
    let parsed = url::Url::parse(url).map_err(|e| config(format!("invalid URL {url:?}: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(config(
            "do not put credentials in the s3:// URL: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ));
    }
    let bucket = parsed
        .host_str()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| config(format!("{url:?}: missing bucket name (s3://bucket/prefix)")))?
        .to_owned();
    if parsed.port().is_some() {
        return Err(config(format!(
            "{url:?}: put the server address in ?endpoint=, not after the bucket name"
        )));
    }
    let prefix = parsed.path().trim_matches('/');
    let prefix = if prefix.is_empty() {
        None
    } else {
        // The prefix follows the key rules, so that keys stay portable.
        crate::BlobKey::parse(prefix).map_err(|e| config(format!("s3 prefix: {e}")))?;
        Some(prefix.to_owned())
    };

    let mut location = S3Location {
        bucket,
        prefix,
        endpoint: None,
        region: None,
        allow_http: false,
    };
    let mut explicit_allow_http = None;
    for (name, value) in parsed.query_pairs() {
        match name.as_ref() {
            "endpoint" => {
                let endpoint = url::Url::parse(&value)
                    .map_err(|e| config(format!("invalid endpoint {value:?}: {e}")))?;
                if !matches!(endpoint.scheme(), "http" | "https") {
                    return Err(config(format!(
                        "endpoint {value:?} must start with http:// or https://"
                    )));
                }
                location.endpoint = Some(value.trim_end_matches('/').to_owned());
            }
            "region" => location.region = Some(value.into_owned()),
            "allow_http" => {
                explicit_allow_http = Some(match value.as_ref() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(config(format!("allow_http={value:?}: use true or false"))),
                });
            }
            other => {
                return Err(config(format!(
                    "unknown s3:// parameter {other:?} (known: endpoint, region, allow_http)"
                )));
            }
        }
    }
    location.allow_http = explicit_allow_http.unwrap_or_else(|| {
        location
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
    });
    Ok(location)
}

fn config(message: impl Into<String>) -> StorageError {
    StorageError::Config(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<BlobLocation, StorageError> {
        BlobLocation::parse(url, Path::new("/data"))
    }

    #[test]
    fn empty_means_the_blobs_folder_in_the_data_folder() {
        assert_eq!(
            parse("").unwrap(),
            BlobLocation::Local("/data/blobs".into())
        );
    }

    #[test]
    fn plain_paths_are_relative_to_the_data_folder() {
        assert_eq!(
            parse("files").unwrap(),
            BlobLocation::Local("/data/files".into())
        );
        assert_eq!(
            parse("/srv/blobs").unwrap(),
            BlobLocation::Local("/srv/blobs".into())
        );
    }

    #[test]
    fn file_urls_are_absolute_paths() {
        assert_eq!(
            parse("file:///srv/preuves/blobs").unwrap(),
            BlobLocation::Local("/srv/preuves/blobs".into())
        );
        assert_eq!(
            parse("file:///srv/with%20space").unwrap(),
            BlobLocation::Local("/srv/with space".into())
        );
        assert!(matches!(
            parse("file://server/share"),
            Err(StorageError::Config(_))
        ));
    }

    #[test]
    fn memory_url() {
        assert_eq!(parse("memory://").unwrap(), BlobLocation::Memory);
        assert!(matches!(parse("memory://x"), Err(StorageError::Config(_))));
    }

    #[test]
    fn s3_url_with_local_endpoint() {
        let location =
            parse("s3://preuves/prod/blobs?endpoint=http://127.0.0.1:9000/&region=eu-west-3")
                .unwrap();
        assert_eq!(
            location,
            BlobLocation::S3(S3Location {
                bucket: "preuves".into(),
                prefix: Some("prod/blobs".into()),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: Some("eu-west-3".into()),
                allow_http: true,
            })
        );
    }

    #[test]
    fn s3_url_on_aws() {
        let location = parse("s3://my-bucket").unwrap();
        assert_eq!(
            location,
            BlobLocation::S3(S3Location {
                bucket: "my-bucket".into(),
                prefix: None,
                endpoint: None,
                region: None,
                allow_http: false,
            })
        );
        let location = parse("s3://b/?endpoint=https://s3.example.org&allow_http=true").unwrap();
        let BlobLocation::S3(s3) = location else {
            panic!("not s3")
        };
        assert!(s3.allow_http);
        assert_eq!(s3.prefix, None);
    }

    #[test]
    fn bad_s3_urls_are_refused() {
        for url in [
            "s3://",
            "s3:///prefix",
            "s3://bucket?endpoint=ftp://x",
            "s3://bucket?unknown=1",
            "s3://bucket?allow_http=maybe",
            "s3://key:secret@bucket",
            "s3://bucket:9000",
            "s3://bucket/Upper",
        ] {
            assert!(parse(url).is_err(), "{url} should be refused");
        }
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(matches!(parse("gs://bucket"), Err(StorageError::Config(_))));
    }
}
