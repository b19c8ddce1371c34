//! The form that enters or edits a lawful request, with the rules it will be held to
//! explained beside the fields: which basis reaches which data, how many reviewers each
//! needs, what an emergency and a non-disclosure order require. The explanations come from
//! the rules' own functions (`governance::rules`) and the regions' policies, so they say
//! what the server enforces.

use crate::governance::rules::{self, Policies};
use maud::{Markup, html};
use pli_proto::Username;
use pli_proto::governance::{DataCategory, LegalBasis, NewRequest};
use serde::Deserialize;

/// The form's fields as typed (kept as text, so a refused form comes back as it was).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    pub authority: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub basis: String,
    #[serde(default)]
    pub doc_ref: String,
    #[serde(default)]
    pub doc_sha256: String,
    /// Usernames, one a line (or separated by spaces or commas).
    #[serde(default)]
    pub targets: String,
    pub cat_subscriber: Option<String>,
    pub cat_devices: Option<String>,
    pub cat_ip: Option<String>,
    #[serde(default)]
    pub nondisclosure_until: String,
    #[serde(default)]
    pub attestation: String,
    #[serde(default)]
    pub due: String,
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

impl RequestForm {
    pub fn of(request: &NewRequest) -> Self {
        let has = |c| request.categories.contains(&c).then(|| "on".to_owned());
        Self {
            authority: request.authority.clone(),
            country: request.country.clone(),
            basis: request.basis.as_str().to_owned(),
            doc_ref: request.doc_ref.clone(),
            doc_sha256: request.doc_sha256.clone(),
            targets: request
                .targets
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            cat_subscriber: has(DataCategory::Subscriber),
            cat_devices: has(DataCategory::Devices),
            cat_ip: has(DataCategory::Ip),
            nondisclosure_until: request.nondisclosure_until.clone().unwrap_or_default(),
            attestation: request.attestation.clone().unwrap_or_default(),
            due: request.due.clone().unwrap_or_default(),
        }
    }

    /// The request the API takes. Only the shape is checked here (a basis it knows,
    /// usernames that parse); every rule is the server's, applied by the same call the
    /// API makes.
    pub fn request(&self) -> Result<NewRequest, String> {
        let basis = LegalBasis::parse(self.basis.trim()).ok_or("choose a legal basis")?;
        let targets = self
            .targets
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(|t| Username::parse(t.trim_start_matches('@')))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "a target is not a valid username (3 to 32 of a-z 0-9 _ ., starting with a letter)")?;
        let categories = [
            (DataCategory::Subscriber, &self.cat_subscriber),
            (DataCategory::Devices, &self.cat_devices),
            (DataCategory::Ip, &self.cat_ip),
        ]
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(c, _)| c)
        .collect();
        Ok(NewRequest {
            authority: self.authority.trim().to_owned(),
            country: self.country.trim().to_ascii_uppercase(),
            basis,
            doc_ref: self.doc_ref.trim().to_owned(),
            doc_sha256: self.doc_sha256.trim().to_ascii_lowercase(),
            targets,
            categories,
            nondisclosure_until: optional(&self.nondisclosure_until),
            attestation: optional(&self.attestation),
            due: optional(&self.due),
        })
    }
}

fn basis_words(basis: LegalBasis) -> &'static str {
    match basis {
        LegalBasis::Subpoena => "Subpoena",
        LegalBasis::CourtOrder => "Court order",
        LegalBasis::SearchWarrant => "Search warrant",
        LegalBasis::Emergency => "Emergency",
        LegalBasis::Preservation => "Preservation",
        LegalBasis::Mlat => "MLAT request",
    }
}

fn category_words(category: DataCategory) -> &'static str {
    match category {
        DataCategory::Subscriber => {
            "Subscriber facts (name, region, dates of creation and last connection)"
        }
        DataCategory::Devices => "Devices (device keys and key-package counts)",
        DataCategory::Ip => "IP addresses (only where the region's policy keeps them)",
    }
}

/// What each basis may do, from the rules themselves, and where it is recognised.
pub fn basis_rules(policies: &Policies) -> Markup {
    let default = policies.of(None);
    html! {
        section class="rules" aria-labelledby="rules-title" {
            h2 id="rules-title" { "The rules this request is held to" }
            p { "Message content is never a category: the server cannot read it and no basis reaches it. Two legal reviewers who did not enter or edit a request must approve its current version before anything is disclosed; an edit voids every approval." }
            table {
                caption { "Legal bases" }
                thead { tr {
                    th scope="col" { "Basis" }
                    th scope="col" { "Approvals needed" }
                    th scope="col" { "May name" }
                    th scope="col" { "Recognised in" }
                } }
                tbody {
                    @for basis in LegalBasis::ALL {
                        tr {
                            th scope="row" { (basis_words(*basis)) }
                            td { (rules::approvals_needed(*basis)) }
                            td {
                                (DataCategory::ALL.iter().filter(|c| rules::reaches(*basis, **c)).map(|c| c.as_str()).collect::<Vec<_>>().join(", "))
                            }
                            td {
                                (policies.by_region.iter().filter(|(_, p)| p.recognised_bases.contains(basis)).map(|(r, _)| r.to_string()).collect::<Vec<_>>().join(", "))
                            }
                        }
                    }
                }
            }
            ul {
                li { strong { "Emergency: " } "needs a written attestation of an imminent threat of death or serious injury. One approval discloses; a second reviewer who neither wrote nor approved it must review it within "
                    (default.emergency_review_ms / 3_600_000) " hours, and may still reject it." }
                li { strong { "Preservation: " } "one approval holds the accounts' data from expiry for "
                    (default.preservation_ms / 86_400_000) " days; it discloses nothing." }
                li { strong { "Non-disclosure order: " } "the people named are told of a disclosure when it ends, not before. Until then the public log shows only a commitment to its date." }
                li { strong { "Policy: " } "a request is held to the strictest policy of its targets' home regions, checked again at approval and at disclosure." }
            }
        }
    }
}

/// The form: `action` is where it posts, `error` a refusal to show above it.
pub fn form(
    action: &str,
    csrf: &Markup,
    values: &RequestForm,
    submit: &str,
    error: Option<Markup>,
) -> Markup {
    let checked = |v: &Option<String>| v.is_some();
    html! {
        @if let Some(error) = error { (error) }
        form method="post" action=(action) class="request-form" {
            (csrf)
            fieldset {
                legend { "Who asks, and on what basis" }
                label for="authority" { "Requesting authority" }
                input id="authority" name="authority" required maxlength="200" value=(values.authority);
                label for="country" { "Country (ISO 3166-1 alpha-2, e.g. FR)" }
                input id="country" name="country" required maxlength="2" size="3" autocomplete="off" value=(values.country);
                label for="basis" { "Legal basis" }
                select id="basis" name="basis" required aria-describedby="rules-title" {
                    option value="" selected[values.basis.is_empty()] { "Choose…" }
                    @for basis in LegalBasis::ALL {
                        option value=(basis.as_str()) selected[values.basis == basis.as_str()] { (basis_words(*basis)) }
                    }
                }
                label for="doc_ref" { "The authority's document reference" }
                input id="doc_ref" name="doc_ref" required maxlength="200" value=(values.doc_ref);
                label for="doc_sha256" { "SHA-256 of the document (64 lowercase hex digits)" }
                input id="doc_sha256" name="doc_sha256" required pattern="[0-9a-fA-F]{64}" autocomplete="off" class="mono" value=(values.doc_sha256);
            }
            fieldset {
                legend { "What is asked for" }
                label for="targets" { "Target accounts (usernames, one a line)" }
                textarea id="targets" name="targets" rows="3" required { (values.targets) }
                fieldset class="inline" {
                    legend { "Data categories" }
                    @for (name, category, on) in [("cat_subscriber", DataCategory::Subscriber, &values.cat_subscriber), ("cat_devices", DataCategory::Devices, &values.cat_devices), ("cat_ip", DataCategory::Ip, &values.cat_ip)] {
                        div class="check" {
                            input type="checkbox" id=(name) name=(name) checked[checked(on)];
                            label for=(name) {
                                (category_words(category))
                                span class="hint" { " — needs at least a " (rules::minimum_basis(category).as_str()) }
                            }
                        }
                    }
                }
            }
            fieldset {
                legend { "Dates and attestation" }
                label for="nondisclosure_until" { "Non-disclosure order until (optional)" }
                input type="date" id="nondisclosure_until" name="nondisclosure_until" value=(values.nondisclosure_until);
                label for="due" { "The authority's deadline (optional)" }
                input type="date" id="due" name="due" value=(values.due);
                label for="attestation" { "Emergency attestation (required for an emergency)" }
                textarea id="attestation" name="attestation" rows="3" { (values.attestation) }
            }
            button type="submit" class="primary" { (submit) }
        }
    }
}
