//! Verifies an AWS Signature Version 4 `Authorization` header the way the service does:
//! recompute the canonical request, the string to sign and the signature from the secret key.
//!
//! One rule differs by service: S3 signs the path as sent (encoded once), every other service
//! signs it encoded twice. The SDK follows the same rule (`double_uri_encode` is false only in
//! the S3 operations), so a key with `%`, `+` or non-ASCII characters proves both sides agree.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::http::{percent_decode_path, percent_encode, Request};

/// Why a request's signature was refused; each service names these its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// No `Authorization` header at all: an anonymous request.
    Missing,
    /// The header or the dates it refers to are not in SigV4's shape.
    Malformed(String),
    /// Signed for another Region than the one the endpoint serves.
    WrongRegion { signed: String, expected: String },
    /// Signed with an access key the stand-in does not know.
    UnknownAccessKey(String),
    /// Well formed, but the signature is not the one the secret key gives.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Missing => f.write_str("no Authorization header"),
            SignatureError::Malformed(why) => f.write_str(why),
            SignatureError::WrongRegion { signed, expected } => {
                write!(f, "signed for Region {signed:?}, not the endpoint's {expected:?}")
            }
            SignatureError::UnknownAccessKey(key) => write!(f, "unknown access key {key:?}"),
            SignatureError::Mismatch => f.write_str("the signature does not match the request"),
        }
    }
}

/// Checks `request`'s signature for `service`, made with `access_key_id` / `secret_access_key`.
pub fn verify(
    request: &Request,
    service: &str,
    expected_region: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> Result<(), SignatureError> {
    let fail = |why: &str| Err(SignatureError::Malformed(why.to_owned()));
    let Some(authorization) = request.header("authorization") else {
        return Err(SignatureError::Missing);
    };
    let Some(fields) = authorization.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return fail("Authorization is not AWS4-HMAC-SHA256");
    };
    let field = |name: &str| {
        fields
            .split(',')
            .map(str::trim)
            .find_map(|part| part.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
    };
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (field("Credential"), field("SignedHeaders"), field("Signature"))
    else {
        return fail("Authorization lacks Credential, SignedHeaders or Signature");
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, date, region, scope_service, "aws4_request"] = scope[..] else {
        return fail("malformed credential scope");
    };
    if region != expected_region {
        return Err(SignatureError::WrongRegion { signed: region.into(), expected: expected_region.into() });
    }
    if scope_service != service {
        return Err(SignatureError::Malformed(format!(
            "signed for service {scope_service:?}, not {service:?}"
        )));
    }
    if key != access_key_id {
        return Err(SignatureError::UnknownAccessKey(key.into()));
    }
    let Some(amz_date) = request.header("x-amz-date") else {
        return fail("no X-Amz-Date header");
    };
    if !amz_date.starts_with(date) {
        return fail("X-Amz-Date does not match the credential scope's date");
    }

    let canonical_headers: String = signed_headers
        .split(';')
        .map(|name| {
            let value = request.header(name).unwrap_or("");
            format!("{name}:{}\n", value.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .collect();
    let mut query: Vec<(String, String)> = request
        .query_pairs()
        .into_iter()
        .map(|(key, value)| (percent_encode(&key), percent_encode(&value)))
        .collect();
    query.sort();
    let canonical_query: Vec<String> = query.iter().map(|(key, value)| format!("{key}={value}")).collect();
    let payload_hash = match request.header("x-amz-content-sha256") {
        Some(hash) => hash.to_owned(),
        None => hex(&Sha256::digest(&request.body)),
    };
    let canonical_path = canonical_path(&request.path, service != "s3");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        canonical_path,
        canonical_query.join("&"),
        canonical_headers,
        signed_headers,
        payload_hash
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut signing_key = hmac(format!("AWS4{secret_access_key}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        signing_key = hmac(&signing_key, part.as_bytes());
    }
    if hex(&hmac(&signing_key, string_to_sign.as_bytes())) != signature {
        return Err(SignatureError::Mismatch);
    }
    Ok(())
}

/// The path as SigV4 signs it: each segment encoded once (decoded first, so a client that left
/// a character unencoded signs what one that encoded it does), then once more unless the
/// service is S3.
fn canonical_path(path: &str, double_encode: bool) -> String {
    path.split('/')
        .map(|segment| {
            let once = percent_encode(&percent_decode_path(segment));
            if double_encode {
                percent_encode(&once)
            } else {
                once
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(move |k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request as the S3 API reference's SigV4 examples give it, signed with their keys.
    fn s3_example(target: &str, range: Option<&str>, signed_headers: &str, signature: &str) -> Request {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers = vec![
            ("host".to_owned(), "examplebucket.s3.amazonaws.com".to_owned()),
            ("x-amz-content-sha256".to_owned(), hex(&Sha256::digest(b""))),
            ("x-amz-date".to_owned(), "20130524T000000Z".to_owned()),
            (
                "authorization".to_owned(),
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
                     SignedHeaders={signed_headers},Signature={signature}"
                ),
            ),
        ];
        if let Some(range) = range {
            headers.push(("range".to_owned(), range.to_owned()));
        }
        Request { method: "GET".into(), path: path.into(), query: query.into(), headers, body: Vec::new() }
    }

    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn verify_example(request: &Request) -> Result<(), SignatureError> {
        verify(request, "s3", "us-east-1", "AKIAIOSFODNN7EXAMPLE", EXAMPLE_SECRET)
    }

    #[test]
    fn the_s3_references_get_object_example_verifies() {
        let request = s3_example(
            "/test.txt",
            Some("bytes=0-9"),
            "host;range;x-amz-content-sha256;x-amz-date",
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        );
        assert_eq!(verify_example(&request), Ok(()));
    }

    #[test]
    fn the_s3_references_example_with_a_query_verifies() {
        let request = s3_example(
            "/?max-keys=2&prefix=J",
            None,
            "host;x-amz-content-sha256;x-amz-date",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        );
        assert_eq!(verify_example(&request), Ok(()));
    }

    #[test]
    fn a_changed_signed_header_no_longer_verifies() {
        let mut request = s3_example(
            "/test.txt",
            Some("bytes=0-9"),
            "host;range;x-amz-content-sha256;x-amz-date",
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        );
        request.headers.retain(|(name, _)| name != "range");
        request.headers.push(("range".into(), "bytes=0-10".into()));
        assert_eq!(verify_example(&request), Err(SignatureError::Mismatch));
    }

    #[test]
    fn the_credential_scope_is_checked_before_the_signature() {
        let request = s3_example("/test.txt", None, "host", "00");
        assert_eq!(
            verify(&request, "s3", "eu-west-1", "AKIAIOSFODNN7EXAMPLE", EXAMPLE_SECRET),
            Err(SignatureError::WrongRegion { signed: "us-east-1".into(), expected: "eu-west-1".into() })
        );
        assert_eq!(
            verify(&request, "s3", "us-east-1", "AKIDOTHER", EXAMPLE_SECRET),
            Err(SignatureError::UnknownAccessKey("AKIAIOSFODNN7EXAMPLE".into()))
        );
        let mut anonymous = request.clone();
        anonymous.headers.retain(|(name, _)| name != "authorization");
        assert_eq!(verify_example(&anonymous), Err(SignatureError::Missing));
    }

    #[test]
    fn s3_signs_the_path_encoded_once_and_other_services_twice() {
        let path = "/b/%E6%97%A5%E6%9C%AC/a%2Bb%20c%25.gz";
        assert_eq!(canonical_path(path, false), path);
        assert_eq!(canonical_path(path, true), "/b/%25E6%2597%25A5%25E6%259C%25AC/a%252Bb%2520c%2525.gz");
        // A client that leaves a character unencoded signs what one that encodes it does.
        assert_eq!(canonical_path("/b/a+b:c", false), "/b/a%2Bb%3Ac");
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
