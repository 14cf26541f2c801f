//! Sessions and login throttling.

use std::time::Duration;

use preuves_db::{
    Actor, Db, LoginAttempt, LoginLimits, NewSession, NewUser, Role, Timestamp, TokenHash, User,
};

use crate::helpers::for_each_backend;

async fn instructor(db: &Db, email: &str) -> User {
    db.create_user(
        &NewUser {
            email,
            display_name: "Inès",
            role: Role::Instructor,
            organisation: None,
            password_hash: "h",
        },
        &Actor::System,
    )
    .await
    .unwrap()
}

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn a_session_round_trips_slides_and_expires() {
    for_each_backend(|db| async move {
        let user = instructor(&db, "ines@ans.example").await;
        let t0 = Timestamp::from_millis(1_800_000_000_000);
        let token = TokenHash::of("raw-token-from-the-cookie");
        assert_ne!(token.as_str(), "raw-token-from-the-cookie");
        assert_eq!(token.as_str().len(), 64);
        db.create_session(
            &NewSession {
                token_hash: &token,
                user: user.id,
                csrf_token: "csrf-123",
                now: t0,
                expires_at: t0.plus(HOUR),
            },
            &Actor::User(user.id),
        )
        .await
        .unwrap();

        // A second process would see the same row: the lookup only needs the hash.
        let s = db.find_valid_session(&token, t0).await.unwrap().unwrap();
        assert_eq!(s.user, user);
        assert_eq!(s.csrf_token, "csrf-123");
        assert_eq!(s.expires_at, t0.plus(HOUR));
        assert!(!format!("{s:?}").contains("csrf-123"));
        assert!(
            db.find_valid_session(&TokenHash::of("other"), t0)
                .await
                .unwrap()
                .is_none()
        );

        // Expired at its end, unless touched before.
        assert!(
            db.find_valid_session(&token, t0.plus(HOUR))
                .await
                .unwrap()
                .is_none()
        );
        let t1 = t0.plus(HOUR / 2);
        db.touch_session(&token, t1, t1.plus(HOUR)).await.unwrap();
        let s = db
            .find_valid_session(&token, t0.plus(HOUR))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.last_seen, t1);

        // Purge removes only what expired.
        assert_eq!(db.purge_expired_sessions(t0.plus(HOUR)).await.unwrap(), 0);
        assert_eq!(db.purge_expired_sessions(t1.plus(HOUR)).await.unwrap(), 1);
        assert!(db.touch_session(&token, t1, t1).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn sessions_end_at_sign_out_everywhere_and_when_the_account_is_disabled() {
    for_each_backend(|db| async move {
        let user = instructor(&db, "ines@ans.example").await;
        let now = Timestamp::now();
        let tokens: Vec<TokenHash> = (0..3).map(|i| TokenHash::of(&format!("t{i}"))).collect();
        for t in &tokens {
            db.create_session(
                &NewSession {
                    token_hash: t,
                    user: user.id,
                    csrf_token: "c",
                    now,
                    expires_at: now.plus(HOUR),
                },
                &Actor::User(user.id),
            )
            .await
            .unwrap();
        }
        db.delete_session(&tokens[0], &Actor::User(user.id))
            .await
            .unwrap();
        assert!(
            db.find_valid_session(&tokens[0], now)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            db.find_valid_session(&tokens[1], now)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            db.delete_sessions_of(user.id, &Actor::System)
                .await
                .unwrap(),
            2
        );
        assert!(
            db.find_valid_session(&tokens[1], now)
                .await
                .unwrap()
                .is_none()
        );

        db.create_session(
            &NewSession {
                token_hash: &tokens[2],
                user: user.id,
                csrf_token: "c",
                now,
                expires_at: now.plus(HOUR),
            },
            &Actor::User(user.id),
        )
        .await
        .unwrap();
        db.set_user_disabled(user.id, true, &Actor::System)
            .await
            .unwrap();
        assert!(
            db.find_valid_session(&tokens[2], now)
                .await
                .unwrap()
                .is_none()
        );
        assert!(!db.find_user(user.id).await.unwrap().unwrap().is_active());
    })
    .await;
}

#[tokio::test]
async fn login_failures_are_counted_per_email_and_per_address_in_a_window() {
    for_each_backend(|db| async move {
        let t0 = Timestamp::from_millis(1_800_000_000_000);
        let minute = Duration::from_secs(60);
        db.record_login_failure("Bob@Example.org", "10.0.0.1", t0)
            .await
            .unwrap();
        db.record_login_failure("bob@example.org", "10.0.0.2", t0.plus(minute))
            .await
            .unwrap();
        db.record_login_failure("carol@example.org", "10.0.0.1", t0.plus(minute * 2))
            .await
            .unwrap();

        let c = db
            .count_login_failures("BOB@example.org", "10.0.0.1", t0.minus(minute))
            .await
            .unwrap();
        assert_eq!((c.by_email, c.by_address), (2, 2));
        // The window excludes older failures.
        let c = db
            .count_login_failures("bob@example.org", "10.0.0.1", t0)
            .await
            .unwrap();
        assert_eq!((c.by_email, c.by_address), (1, 1));

        // A success clears the address's account only, not the address's other attempts.
        db.clear_login_failures("bob@example.org").await.unwrap();
        let c = db
            .count_login_failures("bob@example.org", "10.0.0.1", t0.minus(minute))
            .await
            .unwrap();
        assert_eq!((c.by_email, c.by_address), (0, 1));
        assert_eq!(
            db.purge_login_failures(t0.plus(minute * 3)).await.unwrap(),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_attempts_are_reserved_atomically_within_their_limits() {
    for_each_backend(|db| async move {
        let user = instructor(&db, "dora@ans.example").await;
        let t0 = Timestamp::from_millis(1_800_000_000_000);
        let limits = LoginLimits {
            since: t0.minus(HOUR),
            per_email_and_client: 5,
            per_client: 3,
            per_email: 8,
        };
        // Twenty at once for one account from one client: five reserved, whatever the timing.
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let db = db.clone();
            tasks.spawn(async move {
                db.reserve_login_attempt("Dora@ans.example", "10.0.0.1", t0, &limits)
                    .await
                    .unwrap()
            });
        }
        let attempts = tasks.join_all().await;
        let reserved: Vec<LoginAttempt> = attempts.into_iter().flatten().collect();
        assert_eq!(reserved.len(), 5);
        // Pending attempts do not count against the client: another account may try.
        let other = db
            .reserve_login_attempt("eve@ans.example", "10.0.0.1", t0, &limits)
            .await
            .unwrap()
            .expect("pending attempts are not the client's failures");
        db.release_login_attempt(other, "eve@ans.example", "10.0.0.1")
            .await
            .unwrap();
        // Settled, they do: the client is held for every account.
        for attempt in &reserved[..3] {
            db.settle_login_failure(*attempt).await.unwrap();
        }
        assert!(
            db.reserve_login_attempt("eve@ans.example", "10.0.0.1", t0, &limits)
                .await
                .unwrap()
                .is_none()
        );
        // Another client may still try this account, up to the limit for the address.
        for _ in 0..3 {
            assert!(
                db.reserve_login_attempt("dora@ans.example", "10.0.0.2", t0, &limits)
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        assert!(
            db.reserve_login_attempt("dora@ans.example", "10.0.0.3", t0, &limits)
                .await
                .unwrap()
                .is_none(),
            "eight for the address from every client"
        );
        // An administrator's unlock forgets them all, audited.
        assert_eq!(db.unlock_sign_in(user.id, &Actor::System).await.unwrap(), 8);
        assert!(
            db.reserve_login_attempt("dora@ans.example", "10.0.0.1", t0, &limits)
                .await
                .unwrap()
                .is_some()
        );
        let entries = db
            .audit_entries_for("user", &user.id.0.to_string())
            .await
            .unwrap();
        assert!(entries.iter().any(|e| e.action == "user.unlock"));
    })
    .await;
}
