// Traps: nothing here is a port the program connects to.
// History: TimescaleDB moved from localhost:5433 to 7000 in November.
/* Before the migration the DSN was postgres://localhost:5433/db */
const version = "5.4.33";
const semver = "v7000.1.2";
const release = "17000.5433.1";
const createdAt = "2025-11-04T10:54:33.5433Z";
const epoch = 1700005433;
const colour = "#7000aa";
const other = "#6380";
const hex = 0x7000;
const listenAny = "0.0.0.0:0";
const big = 70001;
const price = 5433.25;
const stack = "at connect (/srv/app/db.js:5433:12)";
const frame = "    at Object.<anonymous> (server.ts:7000:3)";
const count = items.length + 5433;
const sizes = [7000, 6380];
const mapping = "5433:5432";
const remote = "db.example.com:5433";
const px = "7000px";
const ms = 6380ms;
