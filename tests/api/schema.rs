//! The checked-in `schema.graphql` is the API contract: this test fails when the code drifts
//! from it. After an intended change, regenerate it with `UPDATE_SCHEMA=1 cargo test schema`.

#[test]
fn schema_graphql_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let current = digimentor::schema::sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok() {
        std::fs::write(&path, &current).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == current,
        "schema.graphql differs from the code; if the change is intended, run \
         `UPDATE_SCHEMA=1 cargo test schema` and commit schema.graphql"
    );
}
