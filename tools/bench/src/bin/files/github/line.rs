//! One line of the file: a GitHub audit-log event made from its number. The mix of actions,
//! the actors, and the fields each family of actions carries are described in `github.rs`.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{document_id, Draw};

/// 2026-11-26T00:00:00Z in epoch milliseconds: the file's first event.
const FIRST_MS: u64 = 1_795_651_200_000;

/// Actions and their weight in a hundred: Git first, as in real streams.
const ACTIONS: &[(&str, u64)] = &[
    ("git.clone", 24),
    ("git.fetch", 18),
    ("git.push", 6),
    ("api.request", 16),
    ("workflows.completed_workflow_run", 6),
    ("workflows.prepared_workflow_job", 4),
    ("pull_request.create", 3),
    ("pull_request.merge", 2),
    ("repo.access", 3),
    ("repo.download_zip", 2),
    ("protected_branch.policy_override", 1),
    ("repo.create", 1),
    ("org.add_member", 1),
    ("org.remove_member", 1),
    ("team.add_member", 1),
    ("oauth_access.create", 1),
    ("personal_access_token.access_granted", 1),
    ("secret_scanning_alert.create", 1),
    ("integration_installation.create", 1),
    ("business.set_actions_retention_limit", 1),
    ("repository_vulnerability_alert.create", 6),
];

const ORGS: &[&str] =
    &["acme-platform", "acme-payments", "acme-mobile", "acme-data", "acme-infra", "acme-web"];
const REPOS: &[&str] = &[
    "api-gateway",
    "billing-service",
    "checkout",
    "ios-app",
    "android-app",
    "terraform-modules",
    "data-pipeline",
    "design-system",
    "docs",
    "ledger",
    "search",
    "notifications",
];
const BOTS: &[&str] = &["dependabot[bot]", "github-actions[bot]", "renovate[bot]"];
const COUNTRIES: &[&str] = &["US", "DE", "IN", "GB", "BR", "JP", "FR", "CA", "NL", "PL"];
const GIT_AGENTS: &[&str] = &["git/2.45.1", "git/2.43.0", "git/2.39.3 (Apple Git-146)", "JGit/6.8.0"];
const WEB_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "GitHub CLI 2.63.0",
    "octokit-rest.js/21.0.2 octokit-core.js/6.1.2 Node.js/20",
    "Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-github/6.4.0",
];
const TOKENS: &[&str] = &[
    "Personal access token (classic)",
    "Fine-grained personal access token",
    "OAuth access token",
    "GitHub App server-to-server token",
];

/// Line `n` of the file.
pub fn line(n: u64) -> Value {
    let mut draw = Draw(n);
    let action = weighted_action(draw.below(100));
    let at = FIRST_MS + n * 20 + draw.below(20);
    let org_index = draw.below(ORGS.len() as u64);
    let org = ORGS[org_index as usize];
    let repo = format!("{org}/{}", draw.pick(REPOS));
    let mut event = json!({
        "@timestamp": at, "created_at": at + draw.below(3), "_document_id": document_id(n),
        "action": action, "operation_type": operation_type(action),
        "business": "acme", "business_id": 222_222,
        "org": org, "org_id": 3_330_000 + org_index,
        "request_id": format!("{}:{}:{}:{}:{}", draw.hex(4), draw.hex(4), draw.hex(7), draw.hex(7), draw.hex(8)).to_uppercase(),
    });
    let fields = event.as_object_mut().expect("built as an object");
    if action != "repository_vulnerability_alert.create" {
        actor(&mut draw, action, fields);
    }
    if action.starts_with("git.") {
        git(&mut draw, &repo, fields);
    } else if action == "api.request" {
        api_request(&mut draw, org, &repo, fields);
    } else if action.starts_with("workflows.") {
        workflow(&mut draw, at, &repo, fields);
    } else if action.starts_with("org.") || action.starts_with("team.") {
        fields.insert("user".into(), json!(format!("dev-{}", draw.below(2_000))));
        fields.insert("user_id".into(), json!(10_000_000 + draw.below(2_000)));
    } else if !action.starts_with("business.") {
        fields.insert("repo".into(), json!(repo));
        fields.insert("repo_id".into(), json!(40_000_000 + draw.below(5_000)));
        fields.insert("visibility".into(), json!(draw.pick(&["private", "internal", "public"])));
        if action.starts_with("pull_request.") {
            let number = draw.below(4_000) + 1;
            fields.insert("pull_request_id".into(), json!(2_100_000_000 + draw.below(90_000_000)));
            fields.insert("pull_request_title".into(), json!(format!("Bump dependency set #{number}")));
            fields
                .insert("pull_request_url".into(), json!(format!("https://github.com/{repo}/pull/{number}")));
        }
    }
    event
}

fn weighted_action(mut roll: u64) -> &'static str {
    for &(action, weight) in ACTIONS {
        if roll < weight {
            return action;
        }
        roll -= weight;
    }
    ACTIONS[0].0
}

fn operation_type(action: &str) -> &'static str {
    match action.rsplit('.').next().unwrap_or_default() {
        "create" | "add_member" | "access_granted" | "prepared_workflow_job" => "create",
        "remove_member" => "remove",
        "merge" | "policy_override" | "set_actions_retention_limit" => "modify",
        _ => "access",
    }
}

fn actor(draw: &mut Draw, action: &str, fields: &mut Map<String, Value>) {
    let bot = draw.percent(12);
    let (name, id) = match bot {
        true => (draw.pick(BOTS).to_owned(), 49_699_333 + draw.below(3)),
        false => {
            let person = draw.below(2_000);
            (format!("dev-{person}"), 10_000_000 + person)
        }
    };
    fields.insert("actor".into(), json!(name));
    fields.insert("actor_id".into(), json!(id));
    fields.insert("actor_is_bot".into(), json!(bot));
    fields.insert("actor_location".into(), json!({"country_code": draw.pick(COUNTRIES)}));
    let agent = if action.starts_with("git.") { draw.pick(GIT_AGENTS) } else { draw.pick(WEB_AGENTS) };
    fields.insert("user_agent".into(), json!(agent));
    // Some API events carry no IP even with IP display on.
    let without_ip = action == "api.request" && draw.percent(30);
    if !bot && !without_ip {
        let ip = match draw.percent(80) {
            true => format!(
                "{}.{}.{}.{}",
                20 + draw.below(180),
                draw.below(256),
                draw.below(256),
                1 + draw.below(254)
            ),
            false => format!(
                "2001:db8:{:x}:{:x}::{:x}",
                draw.below(65_536),
                draw.below(65_536),
                1 + draw.below(65_535)
            ),
        };
        fields.insert("actor_ip".into(), json!(ip));
    }
    if bot || draw.percent(40) {
        fields.insert("programmatic_access_type".into(), json!(draw.pick(TOKENS)));
        let token = base64::engine::general_purpose::STANDARD.encode(draw.hex(32));
        fields.insert("hashed_token".into(), json!(&token[..44]));
        fields.insert("token_id".into(), json!(draw.below(900_000_000)));
    }
}

fn git(draw: &mut Draw, repo: &str, fields: &mut Map<String, Value>) {
    let ssh = draw.percent(35);
    fields.insert("repo".into(), json!(repo));
    fields.insert("repository".into(), json!(repo));
    fields.insert("repository_public".into(), json!(false));
    fields.insert("transport_protocol".into(), json!(if ssh { 2 } else { 1 }));
    fields.insert("transport_protocol_name".into(), json!(if ssh { "ssh" } else { "http" }));
}

fn api_request(draw: &mut Draw, org: &str, repo: &str, fields: &mut Map<String, Value>) {
    let (method, route, status) = match draw.below(6) {
        0 => ("GET", format!("/repos/{repo}/pulls"), 200),
        1 => ("GET", format!("/repos/{repo}/contents/README.md"), 200),
        2 => ("POST", format!("/repos/{repo}/issues/{}/comments", 1 + draw.below(900)), 201),
        3 => ("GET", format!("/orgs/{org}/members"), 200),
        4 => ("PATCH", format!("/repos/{repo}/pulls/{}", 1 + draw.below(900)), 200),
        _ => ("GET", format!("/repos/{repo}/actions/runs/{}", 12_000_000_000 + draw.below(1_000_000)), 404),
    };
    fields.insert("request_method".into(), json!(method));
    fields.insert("url_path".into(), json!(route));
    fields.insert("status_code".into(), json!(status));
    fields.insert("request_category".into(), json!("api"));
    fields.insert("rate_limit_remaining".into(), json!(draw.below(5_000)));
}

fn workflow(draw: &mut Draw, at: u64, repo: &str, fields: &mut Map<String, Value>) {
    let started = (at - 60_000 - draw.below(600_000)) / 1000;
    fields.insert("repo".into(), json!(repo));
    fields.insert("workflow_id".into(), json!(70_000_000 + draw.below(100_000)));
    fields.insert("workflow_run_id".into(), json!(12_000_000_000 + draw.below(1_000_000_000)));
    fields.insert("name".into(), json!(draw.pick(&["CI", "Release", "CodeQL", "Deploy to staging", "Lint"])));
    fields.insert(
        "head_branch".into(),
        json!(draw.pick(&[
            "main",
            "release/2026.11",
            "feature/ledger-sync",
            "dependabot/npm_and_yarn/axios-1.7.9"
        ])),
    );
    fields.insert("head_sha".into(), json!(draw.hex(40)));
    fields
        .insert("event".into(), json!(draw.pick(&["push", "pull_request", "schedule", "workflow_dispatch"])));
    fields.insert("run_attempt".into(), json!(1 + draw.below(2)));
    fields.insert("run_number".into(), json!(1 + draw.below(9_000)));
    fields.insert(
        "conclusion".into(),
        json!(draw.pick(&["success", "success", "success", "failure", "cancelled"])),
    );
    fields.insert("started_at".into(), json!(iso_seconds(started)));
    fields.insert("completed_at".into(), json!(iso_seconds(at / 1000)));
}

/// RFC 3339 in UTC with milliseconds, as GitHub writes workflow times, for epoch seconds.
fn iso_seconds(epoch: u64) -> String {
    let (days, second) = (epoch / 86_400, epoch % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (no dates before it here).
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        second / 3600,
        second % 3600 / 60,
        second % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_github_shaped_and_the_same_every_time() {
        assert_eq!(line(42), line(42));
        let lines: Vec<Value> = (0..10_000).map(line).collect();
        let with = |field: &str| lines.iter().filter(|line| line.get(field).is_some()).count();
        assert!(lines.iter().all(|line| line["@timestamp"].is_u64() && line["action"].is_string()));
        // Git dominates; some events have no actor, some no IP.
        let git = lines.iter().filter(|line| line["action"].as_str().unwrap().starts_with("git.")).count();
        assert!(git > 4_000, "{git}");
        assert!(with("actor") < 10_000 && with("actor") > 9_000);
        assert!(with("actor_ip") < with("actor"));
        let sizes: u64 = lines.iter().map(|line| line.to_string().len() as u64).sum();
        assert!((500..1_000).contains(&(sizes / 10_000)), "mean line {}", sizes / 10_000);
    }

    #[test]
    fn workflow_times_are_rfc_3339() {
        assert_eq!(iso_seconds(FIRST_MS / 1000 + 3_661), "2026-11-26T01:01:01.000Z");
        assert_eq!(iso_seconds(FIRST_MS / 1000 + 5 * 86_400), "2026-12-01T00:00:00.000Z");
        assert_eq!(iso_seconds(FIRST_MS / 1000 - 1), "2026-11-25T23:59:59.000Z");
        assert_eq!(iso_seconds(951_782_400), "2000-02-29T00:00:00.000Z");
    }
}
