//! The flow inspector against the misbehaving mock: a refresh caused by the photos API's 401 is
//! recorded with that reason, and a revocation that never answers is recorded as unanswered.

use std::time::Duration;

use reqwest::StatusCode;

use crate::{
    mock::{Mock, Reply, invalid_token, photos_ok, post_logout, refreshed_token, spawn_app},
    support::*,
};

#[tokio::test]
async fn a_401_refresh_and_an_unanswered_revocation_are_recorded_with_their_reason() {
    let mock = Mock::start().await;
    let app = spawn_app(&mock, |config| {
        config.flow_inspector = Some(true);
        // Logout gives up after 1 s, well before the HTTP client's own timeout would end the
        // call: the revocation is then certainly unanswered, not "timed out" by the client.
        config.revocation_timeout = Duration::from_secs(1);
        config.http_timeout = Duration::from_secs(5);
    })
    .await;
    assert_eq!(app.callback("c").await.0, StatusCode::SEE_OTHER);
    mock.refresh_replies(vec![refreshed_token(2)]);
    mock.photos_replies(vec![invalid_token(), photos_ok(&mock)]);
    let (status, _, _) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::OK);

    let (_, _, flow) = fetch(&app.client, app.at("/flow")).await;
    let refresh = flow
        .find("Refresh: the photos API refused the access token")
        .expect("the refresh step names its reason");
    let first_call = flow.find("A photos API call").expect("a photos step");
    assert!(
        first_call < refresh,
        "the 401 call comes first, then the refresh"
    );
    assert!(flow.contains("HTTP 401") && flow.contains("HTTP 200"));

    mock.revoke_replies(Reply::Silent);
    assert_eq!(post_logout(&app).await.status(), StatusCode::SEE_OTHER);
    let (_, _, flow) = fetch(&app.client, app.at("/flow")).await;
    assert!(flow.contains("Logout: the access token revoked"), "{flow}");
    assert!(
        flow.contains("no answer within 1 s"),
        "the unanswered revocation is a step"
    );
    // That step still says what was sent: a POST (its answer never came).
    let step = &flow[flow
        .find("Logout: the access token revoked")
        .expect("the step")..];
    let step = &step[..step.find("</li>").expect("the step's end")];
    assert!(
        step.contains("<h3>Request <code>POST</code></h3>"),
        "{step}"
    );
}
