using System.Runtime.Versioning;

// The runner drives pg_dump/pg_restore and writes 0600 backup files: it is a Unix tool.
[assembly: UnsupportedOSPlatform("windows")]
