//! The flow inspector's record in Redis, across instances.

use super::*;

#[tokio::test]
async fn the_flow_inspector_record_lives_in_redis_and_follows_the_browser_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    cluster.flow_inspector = Some(true);
    let (a, b) = (cluster.instance().await, cluster.instance().await);
    let client = browser_jar();
    let callback = callback_via(&client, &a, "bob").await;
    let (status, _, _) = fetch(&client, b.rewrite(&callback)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = photos(&client, &a).await;
    assert_eq!(status, StatusCode::OK);
    // Recorded by B (the callback) and A (the photos call), shown by either.
    for at in [&a, &b] {
        let (status, _, page) = fetch(&client, at.at("/flow")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("The token request") && page.contains(r#"data-step="4""#),
            "{page}"
        );
        assert!(page.contains("A photos API call"));
        assert!(!page.contains(SECRET));
    }
    let (_, _, other) = fetch(&browser_jar(), b.at("/flow")).await;
    assert!(other.contains("Nothing recorded in this browser yet"));
    // An instance with the inspector off neither shows the record nor links to it.
    cluster.flow_inspector = Some(false);
    let off = cluster.instance().await;
    let (_, _, home) = fetch(&client, off.at("/")).await;
    assert!(home.contains("You are connected"), "{home}");
    assert!(!home.contains(r#"href="/flow""#), "{home}");
    let (status, _, _) = fetch(&client, off.at("/flow")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
