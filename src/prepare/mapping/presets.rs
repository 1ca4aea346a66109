//! The mappings the forwarder ships for known sources, chosen by name
//! (`EVENT_MAPPING=preset:github`): GitHub Enterprise (`github`), Okta System Log through
//! EventBridge (`okta`), Microsoft Entra ID audit logs (`entra`), the Azure Activity Log
//! (`azure-activity`), Google Cloud Audit Logs (`gcp-audit`) and CloudTrail-format records
//! (`cloudtrail`). `docs/sources.md` has each one's field table and pipeline.
//!
//! Each preset is a file under `presets/` in the mapping language, the very text a user would
//! write: it is embedded in the binary at build time, so a deployment needs no file beside it,
//! and read at cold start by the same parser as a user's mapping, so a preset can do nothing a
//! user's mapping cannot. A user who needs a variation copies the file, changes it, and names
//! the copy with `EVENT_MAPPING_FILE`. A test reads every file under `presets/` and checks it
//! is here and parses.

use super::{Mapping, MappingError};

/// Every preset: its name, and its text as the file under `presets/` holds it.
pub const PRESETS: [(&str, &str); 6] = [
    ("github", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/github.json"))),
    ("okta", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/okta.json"))),
    ("entra", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/entra.json"))),
    ("azure-activity", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/azure-activity.json"))),
    ("gcp-audit", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/gcp-audit.json"))),
    ("cloudtrail", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/cloudtrail.json"))),
];

/// The preset called `name`, read and checked; `None` when no preset has that name.
///
/// ```
/// use cloudtrail_lake_forwarder::prepare::mapping::presets::preset;
/// assert!(preset("github").is_some_and(|mapping| mapping.is_ok()));
/// assert!(preset("gitlab").is_none());
/// ```
pub fn preset(name: &str) -> Option<Result<Mapping, MappingError>> {
    PRESETS.iter().find(|(known, _)| *known == name).map(|(_, text)| Mapping::parse(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_under_presets_is_embedded_and_parses() {
        let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/presets");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(directory).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            assert_eq!(path.extension().and_then(|e| e.to_str()), Some("json"), "{}", path.display());
            let text = std::fs::read_to_string(&path).unwrap();
            let embedded = PRESETS.iter().find(|(known, _)| *known == name);
            assert_eq!(embedded.map(|(_, text)| *text), Some(text.as_str()), "{name} is not in PRESETS");
            if let Err(error) = Mapping::parse(&text) {
                panic!("presets/{name}.json: {error}");
            }
            files.push(name);
        }
        files.sort();
        let mut names: Vec<&str> = PRESETS.iter().map(|(name, _)| *name).collect();
        names.sort();
        assert_eq!(files, names, "every preset has its file");
    }

    /// The template refuses a mistyped preset name at deploy time: its list is this one.
    #[test]
    fn the_templates_event_mapping_pattern_allows_every_preset_and_no_other() {
        let template = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml"));
        let list = template.split("preset:(").nth(1).and_then(|rest| rest.split(')').next());
        let mut allowed: Vec<&str> =
            list.expect("EventMapping's AllowedPattern lists the presets").split('|').collect();
        allowed.sort();
        let mut names: Vec<&str> = PRESETS.iter().map(|(name, _)| *name).collect();
        names.sort();
        assert_eq!(allowed, names);
    }
}
