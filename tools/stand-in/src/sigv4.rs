//! Verifies an AWS Signature Version 4 `Authorization` header the way the service does:
//! recompute the canonical request, the string to sign and the signature from the secret key.

use sha2::{Digest, Sha256};

use crate::http::{percent_decode, percent_encode, Request};

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureError(pub String);

/// Checks `request`'s signature for `service`, made with `access_key_id` / `secret_access_key`.
pub fn verify(
    request: &Request,
    service: &str,
    expected_region: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> Result<(), SignatureError> {
    let fail = |why: &str| Err(SignatureError(why.to_owned()));
    let Some(authorization) = request.header("authorization") else {
        return fail("no Authorization header");
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
        return Err(SignatureError(format!(
            "signed for Region {region:?}, not the channel's {expected_region:?}"
        )));
    }
    if scope_service != service {
        return Err(SignatureError(format!("signed for service {scope_service:?}, not {service:?}")));
    }
    if key != access_key_id {
        return Err(SignatureError(format!("unknown access key {key:?}")));
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
    let canonical_path: String = request
        .path
        .split('/')
        .map(|segment| percent_encode(&percent_decode(segment)))
        .collect::<Vec<_>>()
        .join("/");
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
        return fail("the signature does not match the request");
    }
    Ok(())
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

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
