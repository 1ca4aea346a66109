//! What the operator configures: environment variables read once at cold start.
//!
//! Only `main` touches the process environment; everything here works on a lookup function so
//! the rules are unit-tested without it. A value that cannot work stops the function at init
//! with an error that names the variable and says what to put there, which Lambda shows as
//! the init error. A secret (`EXTERNAL_ID`) is never repeated in an error.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;

use crate::lambda::s3::AllowedObjects;
use crate::prepare::envelope::EnvelopeSetting;
use crate::prepare::mapping::{presets, Mapping, MappingError};

/// How many `PutAuditEvents` requests one invocation keeps in flight when the variable is unset.
///
/// 100 sends the largest batch Lambda delivers (10,000 records, 100 requests) in one wave, when
/// the rate limiter allows it; the limiter, not this bound, usually decides how many requests
/// start at once. Lower it when many invocations run at once and the channel throttles:
/// throttled requests are retried, but each retry costs time.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 100;

/// The highest accepted `MAX_CONCURRENT_REQUESTS`: a full 10,000-record batch in one wave.
pub const MAX_MAX_CONCURRENT_REQUESTS: usize = 100;

/// The CloudWatch namespace of the metrics when `METRICS_NAMESPACE` is unset: the product's
/// name, so its metrics sit apart from AWS's own namespaces and from other functions'.
pub const DEFAULT_NAMESPACE: &str = "CloudTrailLakeForwarder";

/// The forwarder's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The channel, sent as the `channelArn` query parameter; its Region is where requests go.
    pub channel: ChannelArn,
    /// Sent as `externalId` when the channel's resource policy asks for one.
    pub external_id: Option<String>,
    /// Requests in flight at once within one invocation.
    pub max_concurrent_requests: NonZeroUsize,
    /// A hard cap on the requests per second this execution environment starts
    /// (`MAX_REQUESTS_PER_SECOND`), for users who split the account's quota by hand.
    pub max_requests_per_second: Option<f64>,
    /// The CloudWatch namespace of the EMF metrics (`METRICS_NAMESPACE`).
    pub metrics_namespace: String,
    /// The `FunctionName` dimension of the metrics (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda).
    pub function_name: String,
    /// Which envelopes records are looked at for (`ENVELOPE`).
    pub envelope: EnvelopeSetting,
    /// How payloads that are not schema events are mapped (`EVENT_MAPPING` or
    /// `EVENT_MAPPING_FILE`); without one they are rejected.
    pub mapping: Option<Arc<Mapping>>,
    /// The S3 buckets (and prefixes) whose objects notifications may name (`S3_OBJECTS`);
    /// without it, an S3 notification is a record like any other.
    pub objects: Option<AllowedObjects>,
}

impl Config {
    /// A configuration for `channel` with every optional setting at its default.
    pub fn for_channel(channel: ChannelArn) -> Config {
        Config {
            channel,
            external_id: None,
            max_concurrent_requests: NonZeroUsize::new(DEFAULT_MAX_CONCURRENT_REQUESTS)
                .expect("default is not 0"),
            max_requests_per_second: None,
            metrics_namespace: DEFAULT_NAMESPACE.to_owned(),
            function_name: DEFAULT_FUNCTION_NAME.to_owned(),
            envelope: EnvelopeSetting::Auto,
            mapping: None,
            objects: None,
        }
    }
}

/// The `FunctionName` dimension outside Lambda, where `AWS_LAMBDA_FUNCTION_NAME` is unset.
pub const DEFAULT_FUNCTION_NAME: &str = "cloudtrail-lake-forwarder";

/// A configuration error; its message names the variable and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    Missing { variable: &'static str, expected: &'static str },
    /// A variable is set to a value that breaks its rule.
    Invalid { variable: &'static str, value: String, expected: &'static str },
    /// A secret variable breaks its rule; its value is not repeated, only its length.
    InvalidSecret { variable: &'static str, length: usize, expected: &'static str },
    /// The event mapping cannot work; the error names the entry.
    BadMapping { variable: &'static str, error: MappingError },
    /// Both ways of giving the mapping are set.
    TwoMappings,
    /// `S3_OBJECTS` cannot be read; the error names the entry.
    BadObjects { value: String, error: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Missing { variable, expected } => {
                write!(f, "{variable} is not set: expected {expected}")
            }
            ConfigError::Invalid { variable, value, expected } => {
                write!(f, "{variable} is {value:?}: expected {expected}")
            }
            ConfigError::InvalidSecret { variable, length, expected } => write!(
                f,
                "{variable} is not valid ({length} characters; the value is a secret and is not shown): expected {expected}"
            ),
            ConfigError::BadMapping { variable, error } => write!(f, "{variable} is not a valid event mapping: {error}"),
            ConfigError::TwoMappings => {
                f.write_str("EVENT_MAPPING and EVENT_MAPPING_FILE are both set: set one of them")
            }
            ConfigError::BadObjects { value, error } => write!(
                f,
                "S3_OBJECTS is {value:?}: {error}; expected bucket names, each with an optional \
                 /prefix, separated by commas"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// The setting to fix: the variable the error is about.
    pub fn variable(&self) -> &'static str {
        match self {
            ConfigError::Missing { variable, .. }
            | ConfigError::Invalid { variable, .. }
            | ConfigError::InvalidSecret { variable, .. }
            | ConfigError::BadMapping { variable, .. } => variable,
            ConfigError::TwoMappings => "EVENT_MAPPING",
            ConfigError::BadObjects { .. } => "S3_OBJECTS",
        }
    }
}

/// What the Lambda Runtime API is told at init (`init/error`): an error type named after the
/// setting, such as `ConfigError.CHANNEL_ARN`, stable for alarms and searches, and the message,
/// which never holds a secret's value.
impl From<&ConfigError> for lambda_runtime::Diagnostic {
    fn from(error: &ConfigError) -> lambda_runtime::Diagnostic {
        lambda_runtime::Diagnostic {
            error_type: format!("ConfigError.{}", error.variable()),
            error_message: error.to_string(),
        }
    }
}

const CHANNEL_ARN_RULE: &str = "the channel's ARN, arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID \
     (a bare channel ID is not accepted: the API and the IAM policy need the ARN; \
     aws cloudtrail list-channels shows it)";
const EXTERNAL_ID_RULE: &str = "2 to 1224 characters of letters, digits and _+=,.@:/-";
const CONCURRENCY_RULE: &str = "a whole number from 1 to 100";
const RATE_RULE: &str = "a number of requests per second above 0 and at most 100, the account's quota";
const MAPPING_FILE_RULE: &str = "the path of a readable JSON file in the deployment package";
/// Every name in [`presets::PRESETS`] is listed here (a test checks it).
const PRESET_RULE: &str = "a mapping as a JSON object, or preset:NAME with NAME one of: github, okta, entra, azure-activity, gcp-audit, cloudtrail";
const NAMESPACE_RULE: &str =
    "1 to 255 characters of letters, digits and . - _ / # : or space, not starting with AWS/";

impl Config {
    /// Reads the configuration through `lookup`, which returns a variable's value if it is set.
    ///
    /// ```
    /// use cloudtrail_lake_forwarder::config::Config;
    ///
    /// let config = Config::from_lookup(|name| match name {
    ///     "CHANNEL_ARN" => Some("arn:aws:cloudtrail:us-east-1:123456789012:channel/abc".into()),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// assert_eq!(config.external_id, None);
    /// assert_eq!(config.max_concurrent_requests.get(), 100);
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let set = |name: &str| lookup(name).filter(|value| !value.is_empty());

        let channel_arn = set("CHANNEL_ARN")
            .ok_or(ConfigError::Missing { variable: "CHANNEL_ARN", expected: CHANNEL_ARN_RULE })?;
        let channel = ChannelArn::parse(&channel_arn)
            .ok_or_else(|| invalid("CHANNEL_ARN", channel_arn.clone(), CHANNEL_ARN_RULE))?;

        let external_id = set("EXTERNAL_ID");
        if let Some(external_id) = &external_id
            && !is_external_id(external_id)
        {
            let length = external_id.chars().count();
            return Err(ConfigError::InvalidSecret {
                variable: "EXTERNAL_ID",
                length,
                expected: EXTERNAL_ID_RULE,
            });
        }

        let max_concurrent_requests = match set("MAX_CONCURRENT_REQUESTS") {
            None => NonZeroUsize::new(DEFAULT_MAX_CONCURRENT_REQUESTS).expect("default is not 0"),
            Some(value) => value
                .trim()
                .parse::<NonZeroUsize>()
                .ok()
                .filter(|n| n.get() <= MAX_MAX_CONCURRENT_REQUESTS)
                .ok_or_else(|| invalid("MAX_CONCURRENT_REQUESTS", value, CONCURRENCY_RULE))?,
        };

        let max_requests_per_second = match set("MAX_REQUESTS_PER_SECOND") {
            None => None,
            Some(value) => Some(
                value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|rate| *rate > 0.0 && *rate <= 100.0)
                    .ok_or_else(|| invalid("MAX_REQUESTS_PER_SECOND", value, RATE_RULE))?,
            ),
        };

        let metrics_namespace = set("METRICS_NAMESPACE").unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        if !is_namespace(&metrics_namespace) {
            return Err(invalid("METRICS_NAMESPACE", metrics_namespace, NAMESPACE_RULE));
        }
        let function_name =
            set("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| DEFAULT_FUNCTION_NAME.to_owned());
        let envelope = match set("ENVELOPE") {
            None => EnvelopeSetting::Auto,
            Some(value) => EnvelopeSetting::parse(&value)
                .ok_or_else(|| invalid("ENVELOPE", value, EnvelopeSetting::VALUES))?,
        };
        let mapping = mapping(set("EVENT_MAPPING"), set("EVENT_MAPPING_FILE"))?;
        let objects = match set("S3_OBJECTS") {
            None => None,
            Some(value) => Some(value.parse::<AllowedObjects>().map_err(|error| {
                ConfigError::BadObjects { value: value.clone(), error: error.to_string() }
            })?),
        };

        Ok(Config {
            channel,
            external_id,
            max_concurrent_requests,
            max_requests_per_second,
            metrics_namespace,
            function_name,
            envelope,
            mapping,
            objects,
        })
    }
}

/// The mapping from `EVENT_MAPPING` (the JSON itself, or `preset:NAME` for a mapping the
/// forwarder ships) or `EVENT_MAPPING_FILE` (a file in the deployment package, read once here
/// at cold start).
///
/// A preset is named with a prefix rather than by its bare name: a mapping is a JSON object,
/// so `preset:` can never be mistaken for one, and a value that is neither (a file path put in
/// the wrong variable, a mistyped name) is refused with both forms named, not looked up as a
/// preset that does not exist.
fn mapping(inline: Option<String>, file: Option<String>) -> Result<Option<Arc<Mapping>>, ConfigError> {
    let (variable, text) = match (inline, file) {
        (Some(_), Some(_)) => return Err(ConfigError::TwoMappings),
        (None, None) => return Ok(None),
        (Some(value), None) => match value.trim().strip_prefix("preset:") {
            Some(name) => {
                let preset = presets::preset(name.trim())
                    .ok_or_else(|| invalid("EVENT_MAPPING", value.clone(), PRESET_RULE))?;
                let mapping =
                    preset.map_err(|error| ConfigError::BadMapping { variable: "EVENT_MAPPING", error })?;
                return Ok(Some(Arc::new(mapping)));
            }
            None if !value.trim_start().starts_with('{') => {
                return Err(invalid("EVENT_MAPPING", value, PRESET_RULE));
            }
            None => ("EVENT_MAPPING", value),
        },
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|_| invalid("EVENT_MAPPING_FILE", path, MAPPING_FILE_RULE))?;
            ("EVENT_MAPPING_FILE", text)
        }
    };
    let mapping = Mapping::parse(&text).map_err(|error| ConfigError::BadMapping { variable, error })?;
    Ok(Some(Arc::new(mapping)))
}

fn invalid(variable: &'static str, value: String, expected: &'static str) -> ConfigError {
    ConfigError::Invalid { variable, value, expected }
}

/// A channel's ARN, `arn:PARTITION:cloudtrail:REGION:ACCOUNT:channel/ID`, and the parts the
/// forwarder needs: the Region its requests go to and the account that owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelArn {
    arn: String,
    region: std::ops::Range<usize>,
    account: std::ops::Range<usize>,
}

impl ChannelArn {
    /// Reads a channel ARN; `None` for anything else, a bare channel ID included.
    ///
    /// ```
    /// use cloudtrail_lake_forwarder::config::ChannelArn;
    ///
    /// let arn = ChannelArn::parse("arn:aws:cloudtrail:eu-west-1:123456789012:channel/abc").unwrap();
    /// assert_eq!((arn.region(), arn.account()), ("eu-west-1", "123456789012"));
    /// assert_eq!(ChannelArn::parse("abc"), None);
    /// ```
    pub fn parse(value: &str) -> Option<ChannelArn> {
        let rest = value.strip_prefix("arn:")?;
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts[..] else {
            return None;
        };
        let valid = !partition.is_empty()
            && service == "cloudtrail"
            && !region.is_empty()
            && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("channel/").is_some_and(is_channel_id);
        if !valid {
            return None;
        }
        let region_start = "arn:".len() + partition.len() + service.len() + 2;
        let account_start = region_start + region.len() + 1;
        Some(ChannelArn {
            arn: value.to_owned(),
            region: region_start..region_start + region.len(),
            account: account_start..account_start + account.len(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The Region the channel lives in, where its `PutAuditEvents` requests must go.
    pub fn region(&self) -> &str {
        &self.arn[self.region.clone()]
    }

    /// The 12-digit account that owns the channel.
    pub fn account(&self) -> &str {
        &self.arn[self.account.clone()]
    }
}

impl std::fmt::Display for ChannelArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

fn is_channel_id(value: &str) -> bool {
    (1..=256).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

fn is_namespace(value: &str) -> bool {
    (1..=255).contains(&value.len())
        && !value.starts_with("AWS/")
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/#: ".contains(&b))
}

fn is_external_id(value: &str) -> bool {
    (2..=1224).contains(&value.chars().count())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str =
        "arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab-cdef-0123-456789abcdef";

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn a_channel_arn_alone_is_enough() {
        let config = config(&[("CHANNEL_ARN", ARN)]).unwrap();
        assert_eq!(config.channel.as_str(), ARN);
        assert_eq!((config.channel.region(), config.channel.account()), ("us-east-1", "123456789012"));
        assert_eq!(config.external_id, None);
        assert_eq!(config.max_concurrent_requests.get(), DEFAULT_MAX_CONCURRENT_REQUESTS);
        assert_eq!(config.max_requests_per_second, None);
    }

    #[test]
    fn a_missing_channel_arn_is_named() {
        for vars in [&[][..], &[("CHANNEL_ARN", "")][..]] {
            let error = config(vars).unwrap_err();
            assert!(error.to_string().starts_with("CHANNEL_ARN is not set"), "{error}");
        }
    }

    #[test]
    fn arns_of_other_partitions_are_accepted() {
        let value = "arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:channel/abc";
        let config = config(&[("CHANNEL_ARN", value)]).unwrap();
        assert_eq!(config.channel.region(), "us-gov-west-1");
    }

    #[test]
    fn a_bare_channel_id_is_refused_with_what_to_put_there() {
        let error = config(&[("CHANNEL_ARN", "01234567-89ab-cdef-0123-456789abcdef")]).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("CHANNEL_ARN is \"01234567"), "{message}");
        assert!(message.contains("arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID"), "{message}");
        assert!(message.contains("bare channel ID is not accepted"), "{message}");
    }

    #[test]
    fn malformed_channel_arns_are_named_with_their_value() {
        for value in [
            "arn:aws:sqs:us-east-1:123456789012:channel/abc",
            "arn:aws:cloudtrail:us-east-1:1234:channel/abc",
            "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/abc",
            "arn:aws:cloudtrail:us-east-1:123456789012:channel/",
            "arn:aws:cloudtrail::123456789012:channel/abc",
            "channel id with spaces",
        ] {
            let error = config(&[("CHANNEL_ARN", value)]).unwrap_err();
            assert_eq!(error, invalid("CHANNEL_ARN", value.into(), CHANNEL_ARN_RULE));
            assert!(error.to_string().starts_with("CHANNEL_ARN is \""), "{error}");
        }
    }

    #[test]
    fn an_invalid_external_id_is_refused_without_repeating_it() {
        let ok = config(&[("CHANNEL_ARN", ARN), ("EXTERNAL_ID", "tenant-42@example.com")]).unwrap();
        assert_eq!(ok.external_id.as_deref(), Some("tenant-42@example.com"));
        for value in ["Q", "has space secret-token", &"Q".repeat(1225)] {
            let error = config(&[("CHANNEL_ARN", ARN), ("EXTERNAL_ID", value)]).unwrap_err();
            let message = error.to_string();
            assert!(message.starts_with("EXTERNAL_ID is not valid"), "{message}");
            assert!(!message.contains(value) && !message.contains("secret-token"), "{message}");
            assert!(message.contains(&format!("{} characters", value.chars().count())), "{message}");
        }
    }

    #[test]
    fn the_metrics_namespace_has_a_default_and_follows_cloudwatch_rules() {
        assert_eq!(config(&[("CHANNEL_ARN", ARN)]).unwrap().metrics_namespace, "CloudTrailLakeForwarder");
        let ok = config(&[("CHANNEL_ARN", ARN), ("METRICS_NAMESPACE", "Audit/Forwarder")]).unwrap();
        assert_eq!(ok.metrics_namespace, "Audit/Forwarder");
        for value in ["AWS/Lambda", "bad|name"] {
            let error = config(&[("CHANNEL_ARN", ARN), ("METRICS_NAMESPACE", value)]).unwrap_err();
            assert!(error.to_string().starts_with("METRICS_NAMESPACE is"), "{error}");
        }
    }

    #[test]
    fn the_envelope_setting_defaults_to_auto_and_names_its_values() {
        assert_eq!(config(&[("CHANNEL_ARN", ARN)]).unwrap().envelope, EnvelopeSetting::Auto);
        let pinned = config(&[("CHANNEL_ARN", ARN), ("ENVELOPE", "cloudwatch-logs")]).unwrap();
        assert_eq!(pinned.envelope.to_string(), "cloudwatch-logs");
        let error = config(&[("CHANNEL_ARN", ARN), ("ENVELOPE", "gzip")]).unwrap_err();
        assert!(error.to_string().starts_with("ENVELOPE is \"gzip\": expected auto, none"), "{error}");
    }

    #[test]
    fn a_mapping_is_read_and_a_bad_entry_is_named() {
        let mapping = r#"{"eventName": {"path": "/action"}, "eventSource": {"const": "shop"},
            "userIdentity.type": {"const": "Customer"}, "userIdentity.principalId": {"path": "/who"}}"#;
        let ok = config(&[("CHANNEL_ARN", ARN), ("EVENT_MAPPING", mapping)]).unwrap();
        assert_eq!(ok.mapping.as_deref(), Some(&Mapping::parse(mapping).unwrap()));
        let error = config(&[("CHANNEL_ARN", ARN), ("EVENT_MAPPING", r#"{"eventName": {"pth": "/a"}}"#)])
            .unwrap_err();
        assert!(
            error.to_string().starts_with("EVENT_MAPPING is not a valid event mapping: entry \"eventName\""),
            "{error}"
        );
        let both =
            config(&[("CHANNEL_ARN", ARN), ("EVENT_MAPPING", mapping), ("EVENT_MAPPING_FILE", "m.json")]);
        assert_eq!(both.unwrap_err(), ConfigError::TwoMappings);
        let missing =
            config(&[("CHANNEL_ARN", ARN), ("EVENT_MAPPING_FILE", "/no/such/mapping.json")]).unwrap_err();
        assert!(
            missing.to_string().starts_with("EVENT_MAPPING_FILE is \"/no/such/mapping.json\""),
            "{missing}"
        );
    }

    #[test]
    fn a_preset_is_named_with_its_prefix_and_an_unknown_name_lists_the_presets() {
        for value in ["preset:github", " preset:github "] {
            let config = config(&[("CHANNEL_ARN", ARN), ("EVENT_MAPPING", value)]).unwrap();
            assert_eq!(
                config.mapping.as_deref(),
                Some(&presets::preset("github").unwrap().unwrap()),
                "{value}"
            );
        }
        for value in ["preset:gitlab", "github", "presets/github.json"] {
            let error = config(&[("CHANNEL_ARN", ARN), ("EVENT_MAPPING", value)]).unwrap_err();
            let message = error.to_string();
            assert!(message.starts_with(&format!("EVENT_MAPPING is {value:?}")), "{message}");
            assert!(message.contains("preset:NAME"), "{message}");
        }
        for (name, _) in presets::PRESETS {
            assert!(PRESET_RULE.ends_with(name) || PRESET_RULE.contains(&format!("{name},")), "{name}");
        }
    }

    #[test]
    fn a_mapping_file_in_the_package_is_read() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/events/sqs-mapped.mapping.json");
        let config = config(&[("CHANNEL_ARN", ARN), ("EVENT_MAPPING_FILE", path)]).unwrap();
        assert!(config.mapping.is_some());
    }

    #[test]
    fn max_concurrent_requests_is_a_bounded_positive_number() {
        let ok = config(&[("CHANNEL_ARN", ARN), ("MAX_CONCURRENT_REQUESTS", "8")]).unwrap();
        assert_eq!(ok.max_concurrent_requests.get(), 8);
        for value in ["0", "-1", "many", "101"] {
            let error = config(&[("CHANNEL_ARN", ARN), ("MAX_CONCURRENT_REQUESTS", value)]).unwrap_err();
            assert!(error.to_string().starts_with("MAX_CONCURRENT_REQUESTS is"), "{error}");
        }
    }

    #[test]
    fn max_requests_per_second_is_a_positive_rate_within_the_quota() {
        let ok = config(&[("CHANNEL_ARN", ARN), ("MAX_REQUESTS_PER_SECOND", "12.5")]).unwrap();
        assert_eq!(ok.max_requests_per_second, Some(12.5));
        for value in ["0", "-3", "fast", "101", "NaN"] {
            let error = config(&[("CHANNEL_ARN", ARN), ("MAX_REQUESTS_PER_SECOND", value)]).unwrap_err();
            assert!(error.to_string().starts_with("MAX_REQUESTS_PER_SECOND is"), "{error}");
        }
    }
}
