export const dsn: string =
  process.env.DATABASE_URL ?? "postgres://app:secret@127.0.0.1:5433/trading";
export const stray = "http://[::1]:7050/health"; // port-convention: ignore[hardcoded-port]
export const unknown = "http://127.0.0.1:7050/health";
export const misspelt = "postgres://127.0.0.1:7000/trading"; // port-convention: ignore[hardcode-port, *]
