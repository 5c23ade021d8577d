//! The provider functions: `provider::cfai::<name>(...)` (Terraform >= 1.8).

use crate::cty::{Type, Value};
use crate::framework::{Function, FunctionDef, FunctionError, Parameter};
use crate::r2::{is_r2_bucket_name, r2_s3_endpoint, s3_secret_access_key, R2_JURISDICTIONS};
use crate::validation::is_account_id;

pub fn all() -> Vec<Box<dyn Function>> {
    vec![
        Box::new(R2BucketResource),
        Box::new(R2S3Endpoint),
        Box::new(S3SecretAccessKey),
    ]
}

/// The secret access key R2 derives from an API token: hex SHA-256 of its value.
fn string_arg(args: &[Value], index: usize) -> Result<&str, FunctionError> {
    args.get(index)
        .and_then(Value::as_str)
        .ok_or_else(|| FunctionError::argument(index, "a string is required"))
}

fn account_arg(args: &[Value], index: usize) -> Result<&str, FunctionError> {
    let id = string_arg(args, index)?;
    if is_account_id(id) {
        Ok(id)
    } else {
        Err(FunctionError::argument(
            index,
            format!("{id:?} is not a Cloudflare account id (32 hexadecimal characters)"),
        ))
    }
}

fn jurisdiction_arg(args: &[Value], index: usize) -> Result<&str, FunctionError> {
    let j = string_arg(args, index)?;
    if R2_JURISDICTIONS.contains(&j) {
        Ok(j)
    } else {
        Err(FunctionError::argument(
            index,
            format!(
                "unknown R2 jurisdiction {j:?}: use one of {}",
                R2_JURISDICTIONS.join(", ")
            ),
        ))
    }
}

fn param(name: &'static str, description: &'static str) -> Parameter {
    Parameter {
        name,
        ty: Type::String,
        description,
    }
}

struct R2BucketResource;

impl Function for R2BucketResource {
    fn name(&self) -> &'static str {
        "r2_bucket_resource"
    }

    fn definition(&self) -> FunctionDef {
        FunctionDef {
            parameters: vec![
                param("account_id", "The 32-hex id of the account that owns the bucket."),
                param("bucket", "The bucket name."),
                param("jurisdiction", "The bucket's jurisdiction: default, eu, fedramp or us."),
            ],
            return_type: Type::String,
            summary: "The token policy resource key of one R2 bucket",
            description: "Returns `com.cloudflare.edge.r2.bucket.<account_id>_<jurisdiction>_<bucket>`, the resource key that scopes an API token policy to one R2 bucket.",
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let account = account_arg(args, 0)?;
        let bucket = string_arg(args, 1)?;
        if !is_r2_bucket_name(bucket) {
            return Err(FunctionError::argument(
                1,
                format!("{bucket:?} is not an R2 bucket name (3-63 lowercase letters, digits and hyphens)"),
            ));
        }
        let jurisdiction = jurisdiction_arg(args, 2)?;
        Ok(Value::string(format!(
            "com.cloudflare.edge.r2.bucket.{account}_{jurisdiction}_{bucket}"
        )))
    }
}

struct R2S3Endpoint;

impl Function for R2S3Endpoint {
    fn name(&self) -> &'static str {
        "r2_s3_endpoint"
    }

    fn definition(&self) -> FunctionDef {
        FunctionDef {
            parameters: vec![
                param("account_id", "The 32-hex account id."),
                param("jurisdiction", "default, eu, fedramp or us."),
            ],
            return_type: Type::String,
            summary: "The S3 API endpoint of an account's R2 storage",
            description: "Returns `https://<account_id>.r2.cloudflarestorage.com`, or `https://<account_id>.<jurisdiction>.r2.cloudflarestorage.com` outside the default jurisdiction.",
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let account = account_arg(args, 0)?;
        let jurisdiction = jurisdiction_arg(args, 1)?;
        Ok(Value::string(r2_s3_endpoint(account, jurisdiction)))
    }
}

struct S3SecretAccessKey;

impl Function for S3SecretAccessKey {
    fn name(&self) -> &'static str {
        "s3_secret_access_key"
    }

    fn definition(&self) -> FunctionDef {
        FunctionDef {
            parameters: vec![param("token_value", "The API token's secret value.")],
            return_type: Type::String,
            summary: "The R2 S3 secret access key of an API token",
            description: "Returns the lowercase hex SHA-256 of the token value, which R2 accepts as the S3 secret access key (the access key id is the token id).",
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let value = string_arg(args, 0)?;
        if value.is_empty() {
            return Err(FunctionError::argument(0, "the token value is empty"));
        }
        Ok(Value::string(s3_secret_access_key(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCT: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn bucket_resource() {
        let out = R2BucketResource
            .call(&[ACCT.into(), "logs".into(), "eu".into()])
            .unwrap();
        assert_eq!(
            out.as_str().unwrap(),
            format!("com.cloudflare.edge.r2.bucket.{ACCT}_eu_logs")
        );
        let err = R2BucketResource
            .call(&[ACCT.into(), "logs".into(), "mars".into()])
            .unwrap_err();
        assert_eq!(err.argument, Some(2));
        let err = R2BucketResource
            .call(&["nope".into(), "logs".into(), "eu".into()])
            .unwrap_err();
        assert_eq!(err.argument, Some(0));
    }

    #[test]
    fn endpoint_and_secret() {
        assert_eq!(
            R2S3Endpoint
                .call(&[ACCT.into(), "default".into()])
                .unwrap()
                .as_str()
                .unwrap(),
            format!("https://{ACCT}.r2.cloudflarestorage.com")
        );
        assert_eq!(
            R2S3Endpoint
                .call(&[ACCT.into(), "fedramp".into()])
                .unwrap()
                .as_str()
                .unwrap(),
            format!("https://{ACCT}.fedramp.r2.cloudflarestorage.com")
        );
        // sha256("abc")
        assert_eq!(
            S3SecretAccessKey
                .call(&["abc".into()])
                .unwrap()
                .as_str()
                .unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
