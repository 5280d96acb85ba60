CREATE TABLE member_members (
	member_id INTEGER PRIMARY KEY AUTOINCREMENT,
	email TEXT NOT NULL,
	-- lower(email): one account per address, whatever its spelling
	email_key TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	nick_name TEXT NOT NULL,
	signed_up_at TIMESTAMP NOT NULL
);
