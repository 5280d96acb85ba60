-- The members the service knows, from signup-event.
CREATE TABLE suiteroom_members (
	member_id INTEGER PRIMARY KEY,
	email TEXT NOT NULL,
	name TEXT NOT NULL,
	nick_name TEXT NOT NULL,
	signed_up_at TIMESTAMP
);

CREATE TABLE suiteroom_rooms (
	suite_room_id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: terminated ids stay dead
	title TEXT NOT NULL UNIQUE,
	content TEXT NOT NULL,
	subject TEXT NOT NULL,
	host_member_id INTEGER NOT NULL,
	recruitment_limit INTEGER NOT NULL,
	deposit_amount INTEGER NOT NULL,
	study_deadline TIMESTAMP NOT NULL,
	min_attendance_rate INTEGER NOT NULL,
	min_mission_complete_rate INTEGER NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('OPEN', 'START', 'END')),
	honor_point INTEGER NOT NULL DEFAULT 0,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX suiteroom_rooms_status ON suiteroom_rooms (status, suite_room_id);

-- No foreign keys to suiteroom_rooms: every write locks its room row and
-- checks it first, and a foreign key would add a check (on PostgreSQL a
-- trigger call) per participant to the join consumer's multi-row inserts.
CREATE TABLE suiteroom_participants (
	suite_room_id INTEGER NOT NULL,
	member_id INTEGER NOT NULL,
	nick_name TEXT NOT NULL,
	is_host BOOLEAN NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('PLAIN', 'READY', 'START', 'END')),
	joined_at TIMESTAMP NOT NULL,
	PRIMARY KEY (suite_room_id, member_id)
);

-- Join requests waiting for the deposit (deposit-payment sent, no
-- suiteroom-join yet).
CREATE TABLE suiteroom_join_requests (
	suite_room_id INTEGER NOT NULL,
	member_id INTEGER NOT NULL,
	requested_at TIMESTAMP NOT NULL,
	PRIMARY KEY (suite_room_id, member_id)
);

-- Rooms deleted by suiteroom-terminate-complete, so a late event for one
-- is dead-lettered as "terminated" rather than "unknown".
CREATE TABLE suiteroom_terminated (
	suite_room_id INTEGER PRIMARY KEY,
	terminated_at TIMESTAMP NOT NULL
);
