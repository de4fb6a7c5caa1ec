//! SQLite statements for clients and their tokens (migration 5).

use rusqlite::{Connection, OptionalExtension, params};

use super::{ClientRecord, TokenRecord, now};

pub(super) fn put_client(conn: &Connection, c: &ClientRecord) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO clients (id, name, kind, redirect_uris, scope, approve_all, approved,
                              created_at, last_used_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris,
             scope = excluded.scope, approve_all = excluded.approve_all, approved = excluded.approved",
        params![
            c.id,
            c.name,
            c.kind,
            serde_json::to_string(&c.redirect_uris)?,
            serde_json::to_string(&c.scope)?,
            c.approve_all,
            c.approved,
            c.created_at,
            c.last_used_at,
            c.revoked_at,
        ],
    )?;
    Ok(())
}

/// Every client (or the one with `id`), oldest first.
pub(super) fn clients(conn: &Connection, id: Option<&str>) -> anyhow::Result<Vec<ClientRecord>> {
    let mut statement = conn.prepare(
        "SELECT id, name, kind, redirect_uris, scope, approve_all, approved, created_at,
                last_used_at, revoked_at
         FROM clients WHERE ?1 IS NULL OR id = ?1 ORDER BY created_at, id",
    )?;
    let rows = statement.query_map([id], |r| {
        Ok((
            ClientRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                redirect_uris: Vec::new(),
                scope: Vec::new(),
                approve_all: r.get(5)?,
                approved: r.get(6)?,
                created_at: r.get(7)?,
                last_used_at: r.get(8)?,
                revoked_at: r.get(9)?,
            },
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut client, redirects, scope) = row?;
        client.redirect_uris = serde_json::from_str(&redirects)?;
        client.scope = serde_json::from_str(&scope)?;
        out.push(client);
    }
    Ok(out)
}

pub(super) fn revoke_client(conn: &mut Connection, id: &str) -> anyhow::Result<bool> {
    let tx = conn.transaction()?;
    let found = tx.execute(
        "UPDATE clients SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        params![id, now()],
    )? > 0;
    tx.execute("DELETE FROM client_tokens WHERE client_id = ?1", [id])?;
    tx.commit()?;
    Ok(found)
}

pub(super) fn put_token(conn: &Connection, t: &TokenRecord) -> anyhow::Result<()> {
    // Expired tokens go as new ones come: the table holds live ones only.
    conn.execute("DELETE FROM client_tokens WHERE expires_at < ?1", [now()])?;
    conn.execute(
        "INSERT INTO client_tokens (hash, client_id, kind, resource, expires_at, used_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            t.hash,
            t.client_id,
            t.kind,
            t.resource,
            t.expires_at,
            t.used_at,
            t.created_at
        ],
    )?;
    Ok(())
}

pub(super) fn token(conn: &Connection, hash: &str) -> anyhow::Result<Option<TokenRecord>> {
    Ok(conn
        .query_row(
            "SELECT hash, client_id, kind, resource, expires_at, used_at, created_at
             FROM client_tokens WHERE hash = ?1",
            [hash],
            |r| {
                Ok(TokenRecord {
                    hash: r.get(0)?,
                    client_id: r.get(1)?,
                    kind: r.get(2)?,
                    resource: r.get(3)?,
                    expires_at: r.get(4)?,
                    used_at: r.get(5)?,
                    created_at: r.get(6)?,
                })
            },
        )
        .optional()?)
}
