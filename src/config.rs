//! What the operator configures: environment variables read once at cold start.
//!
//! Only `main` touches the process environment; everything here works on a lookup function so
//! the rules are unit-tested without it. A bad value stops the function at init with an error
//! that names the variable, which Lambda shows as the init error.

use std::fmt;
use std::num::NonZeroUsize;

/// How many `PutAuditEvents` requests one invocation keeps in flight when the variable is unset.
///
/// 100 sends the largest batch Lambda delivers (10,000 records, 100 requests) in one wave. On the
/// README's end-to-end benchmark (service answering after 50 ms) 10,000 records take about
/// 190 ms at 100, 230 ms at 64, 300 ms at 32 and 5.4 s one request at a time. Lower it when many
/// invocations run at once and the channel throttles: throttled requests are retried, but each
/// retry costs time.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 100;

/// The highest accepted `MAX_CONCURRENT_REQUESTS`: a full 10,000-record batch in one wave.
pub const MAX_MAX_CONCURRENT_REQUESTS: usize = 100;

/// The forwarder's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The channel's ARN or ID, sent as the `channelArn` query parameter.
    pub channel_arn: String,
    /// Sent as `externalId` when the channel's resource policy asks for one.
    pub external_id: Option<String>,
    /// Requests in flight at once within one invocation.
    pub max_concurrent_requests: NonZeroUsize,
    /// The CloudWatch namespace of the EMF metrics (`METRICS_NAMESPACE`).
    pub metrics_namespace: String,
    /// The `FunctionName` dimension of the metrics (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda).
    pub function_name: String,
}

impl Config {
    /// A configuration for `channel_arn` with every optional setting at its default.
    pub fn for_channel(channel_arn: impl Into<String>) -> Config {
        Config {
            channel_arn: channel_arn.into(),
            external_id: None,
            max_concurrent_requests: NonZeroUsize::new(DEFAULT_MAX_CONCURRENT_REQUESTS)
                .expect("default is not 0"),
            metrics_namespace: crate::metrics::DEFAULT_NAMESPACE.to_owned(),
            function_name: DEFAULT_FUNCTION_NAME.to_owned(),
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
        }
    }
}

impl std::error::Error for ConfigError {}

const CHANNEL_ARN_RULE: &str =
    "a CloudTrail Lake channel ARN (arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID) or a channel ID";
const EXTERNAL_ID_RULE: &str = "2 to 1224 characters of letters, digits and _+=,.@:/-";
const CONCURRENCY_RULE: &str = "a whole number from 1 to 100";
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
        if !is_channel_arn_or_id(&channel_arn) {
            return Err(invalid("CHANNEL_ARN", channel_arn, CHANNEL_ARN_RULE));
        }

        let external_id = set("EXTERNAL_ID");
        if let Some(external_id) = &external_id {
            if !is_external_id(external_id) {
                return Err(invalid("EXTERNAL_ID", external_id.clone(), EXTERNAL_ID_RULE));
            }
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

        let metrics_namespace =
            set("METRICS_NAMESPACE").unwrap_or_else(|| crate::metrics::DEFAULT_NAMESPACE.to_owned());
        if !is_namespace(&metrics_namespace) {
            return Err(invalid("METRICS_NAMESPACE", metrics_namespace, NAMESPACE_RULE));
        }
        let function_name =
            set("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| DEFAULT_FUNCTION_NAME.to_owned());

        Ok(Config { channel_arn, external_id, max_concurrent_requests, metrics_namespace, function_name })
    }
}

fn invalid(variable: &'static str, value: String, expected: &'static str) -> ConfigError {
    ConfigError::Invalid { variable, value, expected }
}

/// A channel ARN is `arn:PARTITION:cloudtrail:REGION:ACCOUNT:channel/ID`; a bare ID is its suffix.
fn is_channel_arn_or_id(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("arn:") else {
        return is_channel_id(value);
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    !partition.is_empty()
        && service == "cloudtrail"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.strip_prefix("channel/").is_some_and(is_channel_id)
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
        assert_eq!(config.channel_arn, ARN);
        assert_eq!(config.external_id, None);
        assert_eq!(config.max_concurrent_requests.get(), DEFAULT_MAX_CONCURRENT_REQUESTS);
    }

    #[test]
    fn a_missing_channel_arn_is_named() {
        for vars in [&[][..], &[("CHANNEL_ARN", "")][..]] {
            let error = config(vars).unwrap_err();
            assert!(error.to_string().starts_with("CHANNEL_ARN is not set"), "{error}");
        }
    }

    #[test]
    fn channel_ids_and_arns_of_other_partitions_are_accepted() {
        for value in [
            "01234567-89ab-cdef-0123-456789abcdef",
            "arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:channel/abc",
        ] {
            assert_eq!(config(&[("CHANNEL_ARN", value)]).unwrap().channel_arn, value);
        }
    }

    #[test]
    fn malformed_channel_arns_are_named_with_their_value() {
        for value in [
            "arn:aws:sqs:us-east-1:123456789012:channel/abc",
            "arn:aws:cloudtrail:us-east-1:1234:channel/abc",
            "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/abc",
            "arn:aws:cloudtrail:us-east-1:123456789012:channel/",
            "channel id with spaces",
        ] {
            let error = config(&[("CHANNEL_ARN", value)]).unwrap_err();
            assert_eq!(error, invalid("CHANNEL_ARN", value.into(), CHANNEL_ARN_RULE));
            assert!(error.to_string().starts_with("CHANNEL_ARN is \""), "{error}");
        }
    }

    #[test]
    fn external_id_follows_the_service_pattern() {
        let ok = config(&[("CHANNEL_ARN", ARN), ("EXTERNAL_ID", "tenant-42@example.com")]).unwrap();
        assert_eq!(ok.external_id.as_deref(), Some("tenant-42@example.com"));
        for value in ["x", "has space", &"a".repeat(1225)] {
            let error = config(&[("CHANNEL_ARN", ARN), ("EXTERNAL_ID", value)]).unwrap_err();
            assert!(error.to_string().starts_with("EXTERNAL_ID is"), "{error}");
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
    fn max_concurrent_requests_is_a_bounded_positive_number() {
        let ok = config(&[("CHANNEL_ARN", ARN), ("MAX_CONCURRENT_REQUESTS", "8")]).unwrap();
        assert_eq!(ok.max_concurrent_requests.get(), 8);
        for value in ["0", "-1", "many", "101"] {
            let error = config(&[("CHANNEL_ARN", ARN), ("MAX_CONCURRENT_REQUESTS", value)]).unwrap_err();
            assert!(error.to_string().starts_with("MAX_CONCURRENT_REQUESTS is"), "{error}");
        }
    }
}
