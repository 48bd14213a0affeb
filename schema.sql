-- Recommendarr schema: the only source of DDL. Applying it twice is a no-op.
-- The one placeholder, the embedding dimension, is filled from settings when the file is applied;
-- a later change of dimension is refused at start-up rather than silently mixing vector sizes.

CREATE EXTENSION IF NOT EXISTS vector;

-- The hash of the schema text last applied: processes starting later skip identical DDL.
CREATE TABLE IF NOT EXISTS schema_state (
    id          integer PRIMARY KEY CHECK (id = 1),
    sha256      text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS app_secrets (
    name        text PRIMARY KEY,
    sha256      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS users (
    id                 bigserial PRIMARY KEY,
    username           text NOT NULL,
    friendly_name      text,
    plex_user_id       text UNIQUE,
    tautulli_user_id   text UNIQUE,
    jellyfin_user_id   text UNIQUE,
    is_owner           boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS user_tokens (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sha256      bytea NOT NULL UNIQUE,
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE IF NOT EXISTS servers (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('plex', 'jellyfin', 'emby')),
    machine_id   text NOT NULL,
    name         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, machine_id)
);

CREATE TABLE IF NOT EXISTS libraries (
    id           bigserial PRIMARY KEY,
    server_id    bigint NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    section_key  text NOT NULL,
    name         text NOT NULL DEFAULT '',
    domain       text NOT NULL DEFAULT 'movies' CHECK (domain IN ('movies', 'tv', 'anime')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (server_id, section_key)
);

CREATE TABLE IF NOT EXISTS user_library_access (
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    library_id   bigint NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    granted_by   text NOT NULL DEFAULT 'observed',
    synced_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, library_id)
);

CREATE TABLE IF NOT EXISTS items (
    id             bigserial PRIMARY KEY,
    tmdb_id        integer NOT NULL,
    media_type     text NOT NULL CHECK (media_type IN ('movie', 'tv')),
    title          text NOT NULL,
    year           integer,
    genres         text[] NOT NULL DEFAULT '{}',
    keywords       text[] NOT NULL DEFAULT '{}',
    directors      text[] NOT NULL DEFAULT '{}',
    "cast"         text[] NOT NULL DEFAULT '{}',
    language       text,
    runtime        integer,
    overview       text,
    poster_path    text,
    vote_average   real,
    vote_count     integer,
    imdb_id        text,
    tvdb_id        integer,
    collection_id  integer,
    popularity     real,
    fetched_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tmdb_id, media_type)
);

CREATE TABLE IF NOT EXISTS item_embeddings (
    item_id       bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    model         text NOT NULL,
    content_hash  text NOT NULL,
    embedding     vector(@EMBEDDING_DIM@) NOT NULL,
    embedded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, model)
);

-- Per-user nearest-title search orders by the vectors cast to halfvec, so its HNSW index is half
-- the size of one on the full vectors: far more of it stays in shared buffers, and buffer misses
-- are what a search's time goes to (bench/vectors.py). A database made before that has an
-- index of the same name on the full vectors (which served nothing else): it is replaced once.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema()
               AND indexname = 'item_embeddings_hnsw' AND indexdef NOT LIKE '%halfvec%') THEN
        DROP INDEX item_embeddings_hnsw;
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS item_embeddings_hnsw
    ON item_embeddings USING hnsw ((embedding::halfvec(@EMBEDDING_DIM@)) halfvec_cosine_ops);

CREATE TABLE IF NOT EXISTS library_items (
    id            bigserial PRIMARY KEY,
    library_id    bigint NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    item_id       bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    rating_key    text NOT NULL,
    added_at      timestamptz NOT NULL DEFAULT now(),
    file_size     bigint,
    media_info    jsonb NOT NULL DEFAULT '{}',
    UNIQUE (library_id, rating_key)
);

CREATE INDEX IF NOT EXISTS library_items_item ON library_items (item_id);

-- Raw webhooks exactly as received. A row is never deleted by processing: its state says
-- what happened and a failed or rejected row keeps its error for the operator.
CREATE TABLE IF NOT EXISTS inbox (
    id            bigserial PRIMARY KEY,
    source        text NOT NULL,
    content_type  text NOT NULL DEFAULT 'application/json',
    body          bytea NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    state         text NOT NULL DEFAULT 'received'
                  CHECK (state IN ('received', 'recorded', 'done', 'ignored', 'failed')),
    error         text,
    processed_at  timestamptz
);

DROP INDEX IF EXISTS inbox_unfinished;
CREATE INDEX IF NOT EXISTS inbox_unfinished_v2 ON inbox (received_at)
    WHERE state IN ('received', 'recorded', 'mapping');

CREATE TABLE IF NOT EXISTS watch_events (
    id             bigserial PRIMARY KEY,
    event_key      text NOT NULL UNIQUE,
    inbox_id       bigint REFERENCES inbox(id) ON DELETE SET NULL,
    source         text NOT NULL,
    user_id        bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    item_id        bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    library_id     bigint REFERENCES libraries(id) ON DELETE SET NULL,
    action         text NOT NULL CHECK (action IN ('play', 'pause', 'resume', 'stop', 'watched', 'rate')),
    progress       real CHECK (progress IS NULL OR (progress >= 0 AND progress <= 1)),
    duration_s     integer,
    rating         real,
    session_key    text,
    occurred_at    timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS watch_events_user_time ON watch_events (user_id, occurred_at);
-- "Has this user seen this title?" is asked for every candidate of every ranking.
CREATE INDEX IF NOT EXISTS watch_events_user_item ON watch_events (user_id, item_id);

CREATE TABLE IF NOT EXISTS taste_profiles (
    user_id          bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    domain           text NOT NULL CHECK (domain IN ('movies', 'tv', 'anime', 'all')),
    model            text NOT NULL,
    centroid         vector,
    anti_profile     vector,
    genre_weights    jsonb NOT NULL DEFAULT '{}',
    person_weights   jsonb NOT NULL DEFAULT '{}',
    item_weights     jsonb NOT NULL DEFAULT '{}',
    input_hash       text NOT NULL,
    n_titles         integer NOT NULL DEFAULT 0,
    version          integer NOT NULL DEFAULT 1,
    built_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, domain)
);

-- One row per (user, mode): when the list was generated and from what inputs.
CREATE TABLE IF NOT EXISTS recommendation_runs (
    user_id           bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mode              text NOT NULL,
    input_hash        text NOT NULL,
    total_candidates  integer NOT NULL,
    profile_built_at  timestamptz,
    generated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, mode)
);

CREATE TABLE IF NOT EXISTS recommendations (
    user_id        bigint NOT NULL,
    mode           text NOT NULL,
    rank           integer NOT NULL,
    item_id        bigint NOT NULL,
    score          real NOT NULL,
    confidence     text NOT NULL CHECK (confidence IN ('high', 'medium', 'low')),
    signals        json NOT NULL DEFAULT '{}',
    influenced_by  json NOT NULL DEFAULT '[]',
    explanation    text NOT NULL,
    generated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS feedback (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    item_id     bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('up', 'down', 'dismiss', 'hide')),
    until       timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, item_id, kind)
);

-- Work a request or a webhook triggered. Messages carry the job id in their options; a
-- middleware moves the state, so a failure keeps its error here for the operator.
CREATE TABLE IF NOT EXISTS jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    user_id      bigint REFERENCES users(id) ON DELETE CASCADE,
    subject_id   bigint,
    state        text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'retrying', 'done', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    error        text,
    result       jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);

CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created_at);

-- Columns added after the first release: ALTER ... IF NOT EXISTS keeps this file re-appliable.
ALTER TABLE items ADD COLUMN IF NOT EXISTS imdb_id text;
ALTER TABLE items ADD COLUMN IF NOT EXISTS tvdb_id integer;
ALTER TABLE items ADD COLUMN IF NOT EXISTS collection_id integer;
ALTER TABLE items ADD COLUMN IF NOT EXISTS popularity real;
ALTER TABLE servers ADD COLUMN IF NOT EXISTS owner_account_id text;
ALTER TABLE servers ADD COLUMN IF NOT EXISTS synced_at timestamptz;
ALTER TABLE libraries ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT '';
ALTER TABLE libraries ADD COLUMN IF NOT EXISTS domain_overridden boolean NOT NULL DEFAULT false;
ALTER TABLE libraries ADD COLUMN IF NOT EXISTS synced_at timestamptz;

CREATE INDEX IF NOT EXISTS items_imdb ON items (imdb_id) WHERE imdb_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_tvdb ON items (tvdb_id) WHERE tvdb_id IS NOT NULL;

-- TMDB responses, keyed by request (path + query + language), with their expiry.
CREATE TABLE IF NOT EXISTS tmdb_cache (
    cache_key   text PRIMARY KEY,
    body        jsonb NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

-- What each Radarr/Sonarr instance holds, refreshed from their APIs and webhooks.
CREATE TABLE IF NOT EXISTS arr_items (
    instance     text NOT NULL,
    arr_id       integer NOT NULL,
    media_type   text NOT NULL CHECK (media_type IN ('movie', 'tv')),
    tmdb_id      integer,
    tvdb_id      integer,
    title        text NOT NULL DEFAULT '',
    monitored    boolean NOT NULL DEFAULT false,
    has_file     boolean NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, arr_id)
);

CREATE INDEX IF NOT EXISTS arr_items_tmdb ON arr_items (media_type, tmdb_id);

-- A title became playable (a Radarr/Sonarr Download); feeds availability alerts.
CREATE TABLE IF NOT EXISTS item_availability (
    item_id       bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    source        text NOT NULL,
    available_at  timestamptz NOT NULL,
    inbox_id      bigint REFERENCES inbox(id) ON DELETE SET NULL,
    PRIMARY KEY (item_id, source)
);

-- "Worth grabbing" requests sent to Overseerr/Jellyseerr or straight to Radarr/Sonarr.
CREATE TABLE IF NOT EXISTS grab_requests (
    id           bigserial PRIMARY KEY,
    user_id      bigint REFERENCES users(id) ON DELETE SET NULL,
    item_id      bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    via          text NOT NULL CHECK (via IN ('seerr', 'radarr', 'sonarr')),
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sent', 'exists', 'failed')),
    external_id  text,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (item_id)
);

-- What a title named without a TMDB id stands for, once map_event has resolved it: a show's key
-- on its server (Plex grandparentRatingKey, Jellyfin SeriesId) or "imdb:tt…" / "tvdb:…".
CREATE TABLE IF NOT EXISTS title_aliases (
    server_kind   text NOT NULL,
    server_id     text NOT NULL,
    external_key  text NOT NULL,
    tmdb_id       integer NOT NULL,
    media_type    text NOT NULL CHECK (media_type IN ('movie', 'tv')),
    resolved_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server_kind, server_id, external_key)
);

-- 'mapping': waiting for map_event to find the title's TMDB id.
ALTER TABLE inbox DROP CONSTRAINT IF EXISTS inbox_state_check;
ALTER TABLE inbox ADD CONSTRAINT inbox_state_check
    CHECK (state IN ('received', 'recorded', 'mapping', 'done', 'ignored', 'failed'));

-- Other sources that reported the same viewing (a Plex scrobble of a play Tautulli recorded).
ALTER TABLE watch_events ADD COLUMN IF NOT EXISTS also_reported_by text[] NOT NULL DEFAULT '{}';
CREATE INDEX IF NOT EXISTS watch_events_user_item_time
    ON watch_events (user_id, item_id, occurred_at);

-- Pulled history rows (Tautulli get_history) carry the upstream's own id: re-polling the same
-- rows inserts nothing. Webhook bodies have no such id and leave it NULL.
ALTER TABLE inbox ADD COLUMN IF NOT EXISTS external_ref text;
CREATE UNIQUE INDEX IF NOT EXISTS inbox_source_external_ref
    ON inbox (source, external_ref) WHERE external_ref IS NOT NULL;
-- "Did a webhook from this source arrive lately?" (the history poll is only a fallback).
CREATE INDEX IF NOT EXISTS inbox_source_received ON inbox (source, received_at);

-- The libraries whose titles a user may be offered. Once a server has been synced, only the
-- libraries the sync confirmed count: placeholder libraries that webhooks invent for servers
-- that do not name theirs (and that any player of any title gets into) no longer do.
CREATE OR REPLACE VIEW user_visible_libraries AS
    SELECT a.user_id, a.library_id FROM user_library_access a
    JOIN libraries l ON l.id = a.library_id
    WHERE l.synced_at IS NOT NULL OR NOT EXISTS (
        SELECT 1 FROM libraries s WHERE s.server_id = l.server_id AND s.synced_at IS NOT NULL);

-- A connection test's URL and key, waiting for check_integration; the job deletes the row as it
-- reads it, so a key stays in the database only while its check is queued.
CREATE TABLE IF NOT EXISTS integration_checks (
    job_id      bigint PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    kind        text NOT NULL,
    url         text NOT NULL,
    api_key     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- What to send again when an operator retries a failed job.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS actor text;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS args jsonb;

-- The server-wide taste model (item-item collaborative + metadata TF-IDF), fitted by
-- fit_taste_model over every user's viewings. Small for a household (the fit keeps users x items
-- factors, never items x items), so it is stored whole; rank_user scores one user with it.
CREATE TABLE IF NOT EXISTS taste_models (
    id           bigserial PRIMARY KEY,
    input_hash   text NOT NULL UNIQUE,
    n_users      integer NOT NULL,
    n_items      integer NOT NULL,
    n_events     integer NOT NULL,
    model        bytea NOT NULL,
    fitted_at    timestamptz NOT NULL DEFAULT now()
);

-- How long the fit took: a refit asked for because new titles arrived waits a few fits' time
-- after the last one, so a server that keeps growing (a history backfill) is not refitting
-- and re-ranking everyone without pause.
ALTER TABLE taste_models ADD COLUMN IF NOT EXISTS fit_seconds real;

-- One refit asked for per model: rank_user claims it when the titles it ranks are mostly
-- unknown to the latest model (period_key 'coverage:<model id>'), and only the claim sends.
CREATE TABLE IF NOT EXISTS taste_model_requests (
    period_key    text PRIMARY KEY,
    requested_at  timestamptz NOT NULL DEFAULT now()
);

-- The unseen titles a user may be offered that rank_user refined (a few hundred), with how
-- happy each would make them (0..1, their own percentile) and the one-line reason: what shuffle
-- draws from and group night quotes.
CREATE TABLE IF NOT EXISTS candidate_scores (
    user_id     bigint NOT NULL,
    item_id     bigint NOT NULL,
    score       real NOT NULL,
    happiness   real NOT NULL CHECK (happiness BETWEEN 0 AND 1),
    reason      text NOT NULL
);
CREATE INDEX IF NOT EXISTS candidate_scores_item ON candidate_scores (item_id);

-- Every title a user may be offered tonight with their happiness for it (as above), packed:
-- item ids as little-endian int64 in ascending order, happiness as little-endian float32 in the
-- same order. Group night looks for titles that suit everyone in a room, and on a big library
-- those are rarely among each member's few hundred refined candidates: two people of unlike
-- taste share almost none of their top 300 of 20,000. One row per user, rewritten by rank_user.
CREATE TABLE IF NOT EXISTS candidate_happiness (
    user_id       bigint PRIMARY KEY,
    item_ids      bytea NOT NULL,
    happiness     bytea NOT NULL,
    generated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (length(item_ids) = 2 * length(happiness))
);
-- Stored out of line as they are: packed numbers do not compress, and trying to (the default)
-- took 38 ms of each 20,000-title ranking's write, against 2 ms.
ALTER TABLE candidate_happiness ALTER COLUMN item_ids SET STORAGE EXTERNAL,
    ALTER COLUMN happiness SET STORAGE EXTERNAL;

-- The two tables rank_user rewrites on every ranking (a few hundred rows each) hold item ids
-- without a foreign key: a key check per written row was a tenth of a big user's ranking, and
-- titles are never deleted (a title leaving every library stays in items). Readers join items,
-- so a dangling id would only drop out of a list until the next ranking.
ALTER TABLE recommendations DROP CONSTRAINT IF EXISTS recommendations_item_id_fkey;
-- Both are deleted and copied in whole at every ranking, and neither has a unique key (see
-- store/rankings.py): each copied row's key check walked past every dead row left with that key
-- by the rankings since the last autovacuum, so a user re-ranked often wrote slower each time.
-- rank_user writes under the user's lock and keeps a title to one rank in its own code.
ALTER TABLE recommendations DROP CONSTRAINT IF EXISTS recommendations_user_id_mode_item_id_key;
ALTER TABLE recommendations DROP CONSTRAINT IF EXISTS recommendations_pkey;
CREATE INDEX IF NOT EXISTS recommendations_list ON recommendations (user_id, mode, rank);
-- Signals and influences are handed back as written, and only a filtered list looks inside
-- them: as json they are stored as the text the ranking wrote, where jsonb parsed every row of
-- every ranking (a third of writing the lists). The influence filters cast the rows they test.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
               AND table_name = 'recommendations' AND column_name = 'signals'
               AND data_type = 'jsonb') THEN
        ALTER TABLE recommendations ALTER COLUMN signals TYPE json USING signals::json;
    END IF;
    IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
               AND table_name = 'recommendations' AND column_name = 'influenced_by'
               AND data_type = 'jsonb') THEN
        ALTER TABLE recommendations ALTER COLUMN influenced_by TYPE json USING influenced_by::json;
    END IF;
END $$;
ALTER TABLE candidate_scores DROP CONSTRAINT IF EXISTS candidate_scores_pkey;
CREATE INDEX IF NOT EXISTS candidate_scores_user ON candidate_scores (user_id, item_id);
-- Nor a foreign key on the user: its check ran for every written row, a few milliseconds of
-- each ranking. Removing a user still removes their lists, by this trigger.
ALTER TABLE recommendations DROP CONSTRAINT IF EXISTS recommendations_user_id_fkey;
ALTER TABLE candidate_scores DROP CONSTRAINT IF EXISTS candidate_scores_user_id_fkey;
CREATE OR REPLACE FUNCTION forget_removed_users_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM recommendations WHERE user_id IN (SELECT id FROM removed_users);
    DELETE FROM candidate_scores WHERE user_id IN (SELECT id FROM removed_users);
    DELETE FROM candidate_happiness WHERE user_id IN (SELECT id FROM removed_users);
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER users_removed AFTER DELETE ON users
    REFERENCING OLD TABLE AS removed_users FOR EACH STATEMENT
    EXECUTE FUNCTION forget_removed_users_lists();
ALTER TABLE candidate_scores DROP CONSTRAINT IF EXISTS candidate_scores_item_id_fkey;

-- A user's standing instructions about what drives their picks: boost, suppress or block a
-- genre, a person or a title, or "allow" a title (recommend it anyway). rank_user applies them
-- on every ranking; `key` is a genre or person name, or 'movie:603' / 'tv:1399' for a title.
-- Names compare case-insensitively, so "horror" and "Horror" are one rule.
CREATE TABLE IF NOT EXISTS influence_overrides (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('genre', 'person', 'title')),
    key         text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    action      text NOT NULL CHECK (action IN ('boost', 'suppress', 'block', 'allow')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (action <> 'allow' OR kind = 'title')
);
CREATE UNIQUE INDEX IF NOT EXISTS influence_overrides_key
    ON influence_overrides (user_id, kind, lower(key));

-- Grab mode's candidates: titles TMDB relates to a library title (its recommendations and
-- similar titles, recorded by enrich_item from the details it already fetches), and what is
-- trending this week (scout_trending). A related title is an items row like any other.
-- When TMDB's lists for the title last changed (set by the item_relations triggers below).
ALTER TABLE items ADD COLUMN IF NOT EXISTS relations_at timestamptz;
-- When TMDB last answered that it has no details for the title (404): a related or trending list
-- naming it does not have it enriched again, so re-recording a list asks TMDB nothing.
ALTER TABLE items ADD COLUMN IF NOT EXISTS tmdb_missing_at timestamptz;

CREATE TABLE IF NOT EXISTS item_relations (
    item_id          bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    related_item_id  bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('recommended', 'similar')),
    position         integer NOT NULL CHECK (position >= 0),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, related_item_id, kind),
    CHECK (item_id <> related_item_id)
);
CREATE INDEX IF NOT EXISTS item_relations_related ON item_relations (related_item_id);

-- One row per title per scout_trending run; readers take the newest run, older runs are pruned.
CREATE TABLE IF NOT EXISTS trending_items (
    period_key   text NOT NULL,
    item_id      bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    time_window  text NOT NULL CHECK (time_window IN ('day', 'week')),
    position     integer NOT NULL CHECK (position >= 0),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (period_key, item_id)
);
CREATE INDEX IF NOT EXISTS trending_items_recorded ON trending_items (recorded_at);

-- The onboarding quiz: titles a new user said they liked and genre sliders (-1..1), so their
-- first picks need not wait for a watch history. One row per user; answering again replaces it.
-- Liked titles are item ids without a foreign key (arrays cannot have one): readers join items.
CREATE TABLE IF NOT EXISTS onboarding_answers (
    user_id         bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    liked_item_ids  bigint[] NOT NULL DEFAULT '{}',
    genre_sliders   jsonb NOT NULL DEFAULT '{}',
    answered_at     timestamptz NOT NULL DEFAULT now()
);

-- A refresh_profile message is on its way for this user. A burst of events sends one message,
-- not one per event: the event that inserts the row sends; later ones only lock it until they
-- commit. refresh_profile deletes the row before it reads the history (its delete waits for
-- those locks), so an event committed after that inserts and sends again.
-- reconcile_derived re-sends for rows left behind by a lost message (and moves requested_at).
CREATE TABLE IF NOT EXISTS profile_refresh_requests (
    user_id       bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    requested_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS profile_refresh_requests_requested_at
    ON profile_refresh_requests (requested_at);

-- The same for rank_user (store/pending_requests.py): a refit asks every user's ranking again,
-- and one pending ranking per user covers it and any refresh that lands meanwhile.
CREATE TABLE IF NOT EXISTS rank_requests (
    user_id       bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    requested_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rank_requests_requested_at ON rank_requests (requested_at);

-- A user's moods: weighted k-means over the vectors of the titles they liked, per domain
-- ([{"weight", "item_ids", "centroid"}]); a pick says which mood it belongs to.
ALTER TABLE taste_profiles ADD COLUMN IF NOT EXISTS clusters jsonb NOT NULL DEFAULT '[]';

-- Per-user taste settings, read by the ranking. history_window_months: how far back the history
-- shapes the profile (3, 6 or 12 months; NULL = all of it), because a household's tastes drift
-- and some want last year's binge forgotten. cross_domain_blend: when on, the user's movies, tv
-- and anime histories all shape every domain's picks instead of each domain only its own.
ALTER TABLE users ADD COLUMN IF NOT EXISTS history_window_months integer DEFAULT 12;
ALTER TABLE users ADD COLUMN IF NOT EXISTS cross_domain_blend boolean NOT NULL DEFAULT false;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_history_window_months_check;
ALTER TABLE users ADD CONSTRAINT users_history_window_months_check
    CHECK (history_window_months IS NULL OR history_window_months IN (3, 6, 12));

-- One row per committed change to which title sits in which library (or to a library's domain,
-- or a library title's genres): workers cache that membership, and (count, max, sum) of these
-- ids tells them cheaply whether to reload it. Insert-only, so writers never wait on each
-- other; a change committed out of id order still moves the count. reconcile_derived folds
-- the rows into one new one every few minutes (store/change_logs.py), so the summary stays a
-- read of a few rows. Statements that change no row (a re-sync of unchanged titles) add
-- nothing.
CREATE TABLE IF NOT EXISTS library_changes (
    id          bigserial PRIMARY KEY,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
DROP INDEX IF EXISTS library_changes_changed_at;  -- pruning by age no longer reads it

-- Both change logs are written by these two, the log named by the trigger's argument.
CREATE OR REPLACE FUNCTION note_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO %I DEFAULT VALUES', TG_ARGV[0]);
    RETURN NULL;
END $$;

-- For statement triggers with a transition table named changed_rows: only when rows changed.
CREATE OR REPLACE FUNCTION note_rows_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed_rows) THEN
        EXECUTE format('INSERT INTO %I DEFAULT VALUES', TG_ARGV[0]);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER library_items_inserted AFTER INSERT ON library_items
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_rows_change('library_changes');
CREATE OR REPLACE TRIGGER library_items_updated AFTER UPDATE ON library_items
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_rows_change('library_changes');
CREATE OR REPLACE TRIGGER library_items_deleted AFTER DELETE ON library_items
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_rows_change('library_changes');
CREATE OR REPLACE TRIGGER library_items_truncated AFTER TRUNCATE ON library_items
    FOR EACH STATEMENT EXECUTE FUNCTION note_change('library_changes');
CREATE OR REPLACE TRIGGER libraries_changed AFTER UPDATE OF domain ON libraries
    FOR EACH ROW WHEN (OLD.domain IS DISTINCT FROM NEW.domain)
    EXECUTE FUNCTION note_change('library_changes');
CREATE OR REPLACE TRIGGER items_genres_changed AFTER UPDATE OF genres ON items
    FOR EACH ROW WHEN (OLD.genres IS DISTINCT FROM NEW.genres)
    EXECUTE FUNCTION note_change('library_changes');

-- One row per committed change to a title's facts, vectors or related titles (any row of items
-- or item_embeddings written or removed; relations stamp their title's row): workers keep all
-- three in memory, and while the summary of these ids is the one an entry was last checked
-- under, it is served without reading its row's version. Insert-only and folded by
-- reconcile_derived like library_changes.
CREATE TABLE IF NOT EXISTS title_changes (
    id          bigserial PRIMARY KEY,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

-- A transition table serves one event only, hence a trigger per event and table.
CREATE OR REPLACE TRIGGER items_inserted_title AFTER INSERT ON items
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_rows_change('title_changes');
CREATE OR REPLACE TRIGGER items_updated_title AFTER UPDATE ON items
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_rows_change('title_changes');
CREATE OR REPLACE TRIGGER items_deleted_title AFTER DELETE ON items
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_rows_change('title_changes');
CREATE OR REPLACE TRIGGER items_truncated_title AFTER TRUNCATE ON items
    FOR EACH STATEMENT EXECUTE FUNCTION note_change('title_changes');
CREATE OR REPLACE TRIGGER item_embeddings_inserted_title AFTER INSERT ON item_embeddings
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_rows_change('title_changes');
CREATE OR REPLACE TRIGGER item_embeddings_updated_title AFTER UPDATE ON item_embeddings
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_rows_change('title_changes');
CREATE OR REPLACE TRIGGER item_embeddings_deleted_title AFTER DELETE ON item_embeddings
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_rows_change('title_changes');
CREATE OR REPLACE TRIGGER item_embeddings_truncated_title AFTER TRUNCATE ON item_embeddings
    FOR EACH STATEMENT EXECUTE FUNCTION note_change('title_changes');
-- A change to a title's TMDB relations stamps the title's row (relations_at): it gets a new
-- version (xmin), which is what the workers' relation cache checks its entries by (reading
-- one row per title instead of counting its relations), and the update notes a title change.
CREATE OR REPLACE FUNCTION note_relations_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE items SET relations_at = now();  -- which titles had some is not known any more
    ELSE
        UPDATE items SET relations_at = now() WHERE id IN (SELECT item_id FROM changed_rows);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER item_relations_inserted_title AFTER INSERT ON item_relations
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_relations_change();
CREATE OR REPLACE TRIGGER item_relations_updated_title AFTER UPDATE ON item_relations
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_relations_change();
CREATE OR REPLACE TRIGGER item_relations_deleted_title AFTER DELETE ON item_relations
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION note_relations_change();
CREATE OR REPLACE TRIGGER item_relations_truncated_title AFTER TRUNCATE ON item_relations
    FOR EACH STATEMENT EXECUTE FUNCTION note_relations_change();

-- An earlier schema's per-log copies of note_change and note_rows_change, unused once the
-- triggers above are replaced.
DROP FUNCTION IF EXISTS note_library_change(), note_library_rows_change(), note_title_change(),
    note_title_rows_change();
