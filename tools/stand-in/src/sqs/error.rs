//! The errors the SQS stand-in answers, in the shape of SQS's JSON protocol: a status, a body
//! `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"…"}`, and the
//! `x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender` header. SQS moved from
//! the query protocol to JSON keeping its old error codes; the SDK takes the code from that
//! header when it is there (aws-sdk-sqs `aws_query_compatible_errors`), and matches its error
//! variants on the old codes, so without the header `QueueDoesNotExist` would not be recognised.

use serde_json::json;

use crate::http::Response;

/// An error SQS answers to `SendMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqsError {
    QueueDoesNotExist,
    /// Throttled: the SDK retries it with backoff.
    RequestThrottled,
    /// 500: transient, the SDK retries it.
    InternalError,
    /// The queue is encrypted with a KMS key the sender may not use.
    KmsAccessDenied,
    AccessDenied,
    /// A parameter the queue cannot take, and why.
    InvalidParameterValue(String),
    /// A parameter the queue requires, by name.
    MissingParameter(String),
    /// A body with characters SQS does not carry.
    InvalidMessageContents,
    /// The signature or the credentials are not the stand-in's.
    InvalidSignature(String),
    /// Anything but `SendMessage`, or not in the JSON protocol.
    UnknownOperation(String),
}

impl SqsError {
    pub fn status(&self) -> u16 {
        match self {
            SqsError::InternalError => 500,
            SqsError::AccessDenied | SqsError::InvalidSignature(_) => 403,
            _ => 400,
        }
    }

    /// The `__type`, namespace and shape name, as the JSON protocol gives it.
    pub fn type_name(&self) -> &'static str {
        match self {
            SqsError::QueueDoesNotExist => "com.amazonaws.sqs#QueueDoesNotExist",
            SqsError::RequestThrottled => "com.amazonaws.sqs#RequestThrottled",
            SqsError::InternalError => "com.amazonaws.sqs#InternalError",
            SqsError::KmsAccessDenied => "com.amazonaws.sqs#KmsAccessDenied",
            SqsError::AccessDenied => "com.amazon.coral.service#AccessDeniedException",
            SqsError::InvalidParameterValue(_) => "com.amazonaws.sqs#InvalidParameterValueException",
            SqsError::MissingParameter(_) => "com.amazonaws.sqs#MissingRequiredParameterException",
            SqsError::InvalidMessageContents => "com.amazonaws.sqs#InvalidMessageContents",
            SqsError::InvalidSignature(_) => "com.amazon.coral.service#InvalidSignatureException",
            SqsError::UnknownOperation(_) => "com.amazon.coral.service#UnknownOperationException",
        }
    }

    /// The query protocol's code and fault, for `x-amzn-query-error`: the code the SDK reports.
    pub fn query_code(&self) -> &'static str {
        match self {
            SqsError::QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue;Sender",
            SqsError::RequestThrottled => "RequestThrottled;Sender",
            SqsError::InternalError => "InternalError;Receiver",
            SqsError::KmsAccessDenied => "KMS.AccessDeniedException;Sender",
            SqsError::AccessDenied => "AccessDenied;Sender",
            SqsError::InvalidParameterValue(_) => "InvalidParameterValue;Sender",
            SqsError::MissingParameter(_) => "MissingParameter;Sender",
            SqsError::InvalidMessageContents => "InvalidMessageContents;Sender",
            SqsError::InvalidSignature(_) => "SignatureDoesNotMatch;Sender",
            SqsError::UnknownOperation(_) => "InvalidAction;Sender",
        }
    }

    /// The code the SDK reports: the query code without its fault.
    pub fn code(&self) -> &'static str {
        self.query_code().split(';').next().unwrap_or_default()
    }

    pub fn message(&self) -> String {
        match self {
            SqsError::QueueDoesNotExist => "The specified queue does not exist.".into(),
            SqsError::RequestThrottled => "Request is throttled.".into(),
            SqsError::InternalError => "We encountered an internal error. Please try again.".into(),
            SqsError::KmsAccessDenied => {
                "The ciphertext refers to a customer master key that does not exist, \
                                          does not exist in this region, or you are not allowed to access."
                    .into()
            }
            SqsError::AccessDenied => "Access to the resource is denied.".into(),
            SqsError::InvalidParameterValue(why) => {
                format!("One or more parameters are invalid. Reason: {why}")
            }
            SqsError::MissingParameter(name) => format!("The request must contain the parameter {name}."),
            SqsError::InvalidMessageContents => "Invalid characters found. Valid unicode characters are \
                                                 #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | \
                                                 #x10000 to #x10FFFF"
                .into(),
            SqsError::InvalidSignature(why) => format!(
                "The request signature we calculated does not match the signature you provided ({why})."
            ),
            SqsError::UnknownOperation(what) => format!("unknown operation: {what}"),
        }
    }

    pub fn response(&self, request_id: &str) -> Response {
        Response {
            status: self.status(),
            headers: vec![
                ("content-type", "application/x-amz-json-1.0".into()),
                ("x-amzn-requestid", request_id.to_owned()),
                ("x-amzn-query-error", self.query_code().into()),
            ],
            body: json!({"__type": self.type_name(), "message": self.message()}).to_string().into_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_queue_is_answered_with_the_code_the_sdk_matches() {
        let response = SqsError::QueueDoesNotExist.response("r-1");
        assert_eq!(response.status, 400);
        assert!(response
            .headers
            .contains(&("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender".into())));
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
        assert_eq!(SqsError::QueueDoesNotExist.code(), "AWS.SimpleQueueService.NonExistentQueue");
    }

    #[test]
    fn an_internal_error_is_a_500() {
        assert_eq!(SqsError::InternalError.status(), 500);
        assert_eq!(SqsError::RequestThrottled.status(), 400);
    }
}
