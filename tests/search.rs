//! Tool search on a real catalog (GitHub's REST API, 1,200 tools): the tool
//! a person means is among the first results for plain-language queries.

mod support;

use runtime::search::SearchIndex;

#[test]
fn plain_language_queries_find_the_right_github_tools() {
    let spec = support::corpus_openapi().join("famous/github-api.github.com.json");
    let loaded = support::load(&spec, "github").unwrap();
    let catalog = support::catalog_of(&loaded.ingested);
    let index = SearchIndex::build(&catalog.into_text());
    let cases = [
        ("create an issue", "issues.create", 3),
        ("list pull requests", "pulls.list", 3),
        ("merge a pull request", "pulls.merge", 3),
        (
            "star a repository",
            "activity.starRepoForAuthenticatedUser",
            5,
        ),
        ("delete a gist", "gists.delete", 3),
        ("add labels to an issue", "issues.addLabels", 3),
        ("get the authenticated user", "users.getAuthenticated", 3),
        (
            "download a workflow run's logs",
            "actions.downloadWorkflowRunLogs",
            5,
        ),
        ("create a release", "repos.createRelease", 3),
        ("comment on an issue", "issues.createComment", 8),
    ];
    let mut misses = Vec::new();
    for (query, expected, within) in cases {
        let hits = index.search(query, within);
        let paths: Vec<&str> = hits
            .iter()
            .map(|h| h.path.trim_start_matches("github.org.main."))
            .collect();
        if !paths.contains(&expected) {
            misses.push(format!(
                "{query:?}: wanted {expected} in the first {within}, got {paths:?}"
            ));
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}
