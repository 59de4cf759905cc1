using System.Runtime.Versioning;

// The tests drive the runner, which is a Unix tool (pg_dump/pg_restore, 0600 backup files): same platform contract.
[assembly: UnsupportedOSPlatform("windows")]
