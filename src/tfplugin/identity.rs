//! Resource identity on the wire (protocol 6.9+): the identity schemas, the
//! identity that travels beside each state, and import by identity. Clients
//! before Terraform 1.12 never call these RPCs and ignore the identity
//! fields of the others.

use tonic::{Request, Response, Status};

use super::convert::{self, decode, encode};
use super::proto;
use super::server::ProviderServer;
use crate::cty::{json, Type, Value};
use crate::framework::{Diagnostic, Diagnostics, IdentitySchema, ProviderDef};

/// A resource's identity schema and the cty type of its values, built once.
#[derive(Clone)]
pub(super) struct Identity {
    pub(super) schema: IdentitySchema,
    pub(super) ty: Type,
}

impl Identity {
    /// `None` for a resource without identity attributes.
    pub(super) fn of(schema: IdentitySchema) -> Option<Identity> {
        (!schema.attributes.is_empty()).then(|| Identity {
            ty: schema.cty_type(),
            schema,
        })
    }

    /// The identity of the object `state` describes, on the wire; `None`
    /// for no object.
    pub(super) fn data(
        &self,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<proto::ResourceIdentityData> {
        let identity = self.schema.of(state);
        self.encoded(&identity, diags)
    }

    fn encoded(
        &self,
        identity: &Value,
        diags: &mut Diagnostics,
    ) -> Option<proto::ResourceIdentityData> {
        if identity.is_null() {
            return None;
        }
        match encode(identity, &self.ty, "resource identity") {
            Ok(data) => Some(proto::ResourceIdentityData {
                identity_data: Some(data),
            }),
            Err(d) => {
                diags.push(d);
                None
            }
        }
    }

    /// The planned identity. Terraform writes it into the saved plan, whose
    /// JSON cannot hold an unknown value (`terraform show -json` fails with
    /// "value is not known"), so it is always wholly known or absent: none
    /// for an object still to be created (its identity comes with the
    /// apply), the planned object's when all of it is known, and otherwise
    /// the identity the existing object has until the apply says otherwise.
    pub(super) fn planned(
        &self,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<proto::ResourceIdentityData> {
        if prior.is_null() {
            return None;
        }
        let identity = self.schema.of(planned);
        if identity.is_wholly_known() {
            return self.encoded(&identity, diags);
        }
        self.data(prior, diags)
    }

    /// The import id an identity given to `ImportResourceState` names.
    pub(super) fn import_id(
        &self,
        data: Option<&proto::ResourceIdentityData>,
    ) -> Result<String, Diagnostic> {
        let value = decode(
            data.and_then(|d| d.identity_data.as_ref()),
            &self.ty,
            "import identity",
        )?;
        self.schema.import_id(&value)
    }
}

impl<P: ProviderDef> ProviderServer<P> {
    pub(super) fn identity_schemas(&self) -> proto::get_resource_identity_schemas::Response {
        let identity_schemas = self
            .identities
            .iter()
            .map(|(type_name, identity)| {
                let attributes = identity
                    .schema
                    .attributes
                    .iter()
                    .map(|a| proto::resource_identity_schema::IdentityAttribute {
                        name: a.name.to_string(),
                        r#type: Type::String.to_json_bytes(),
                        required_for_import: a.required_for_import,
                        optional_for_import: !a.required_for_import,
                        description: a.description.to_string(),
                    })
                    .collect();
                let schema = proto::ResourceIdentitySchema {
                    version: identity.schema.version,
                    identity_attributes: attributes,
                };
                (type_name.clone(), schema)
            })
            .collect();
        proto::get_resource_identity_schemas::Response {
            identity_schemas,
            diagnostics: Vec::new(),
        }
    }

    /// Every identity version so far has had today's attributes: a stored
    /// identity is read as it is.
    pub(super) fn upgrade_identity(
        &self,
        req: &proto::upgrade_resource_identity::Request,
        diags: &mut Diagnostics,
    ) -> Option<proto::ResourceIdentityData> {
        let Some(identity) = self.identities.get(&req.type_name) else {
            diags.error(
                "Unknown resource identity",
                format!("The cfai provider has no identity for {:?}.", req.type_name),
            );
            return None;
        };
        if req.version > identity.schema.version {
            diags.error(
                "Identity written by a newer provider",
                format!(
                    "The identity of this {} has version {}, but this provider only knows up to version {}. Upgrade the cfai provider.",
                    req.type_name, req.version, identity.schema.version
                ),
            );
            return None;
        }
        let raw = req
            .raw_identity
            .as_ref()
            .map(|r| r.json.as_slice())
            .unwrap_or_default();
        match json::decode(raw, &identity.ty, json::UnknownKeys::Drop) {
            Ok(value) => identity.encoded(&value, diags),
            Err(e) => {
                diags.error(
                    "Stored identity could not be read",
                    format!(
                        "The stored identity of this {} is not valid: {e}.",
                        req.type_name
                    ),
                );
                None
            }
        }
    }
}

pub(super) async fn get_resource_identity_schemas<P: ProviderDef>(
    server: &ProviderServer<P>,
    _: Request<proto::get_resource_identity_schemas::Request>,
) -> Result<Response<proto::get_resource_identity_schemas::Response>, Status> {
    Ok(Response::new(server.identity_schemas()))
}

pub(super) async fn upgrade_resource_identity<P: ProviderDef>(
    server: &ProviderServer<P>,
    request: Request<proto::upgrade_resource_identity::Request>,
) -> Result<Response<proto::upgrade_resource_identity::Response>, Status> {
    let req = request.into_inner();
    let mut diags = Diagnostics::new();
    let upgraded_identity = server.upgrade_identity(&req, &mut diags);
    Ok(Response::new(proto::upgrade_resource_identity::Response {
        upgraded_identity,
        diagnostics: convert::diagnostics(&diags),
    }))
}
