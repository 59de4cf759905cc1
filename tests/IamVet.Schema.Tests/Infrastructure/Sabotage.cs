namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// SQL that makes a migration's data move go wrong behind the runner's back, to prove that
/// verification catches it, or stall it, so a test can interrupt the run mid-move. The tables it
/// targets do not exist before the migration creates them, so an event trigger attaches the
/// trigger the moment the table is created, inside the migration's own transaction (and is rolled
/// back with it).
/// </summary>
public static class Sabotage
{
    /// <summary>Every row inserted into <paramref name="table"/> is deleted again.</summary>
    public static string DeleteEveryInsertedRow(string table) =>
        AttachTrigger(table, "AFTER INSERT", $"DELETE FROM {table} WHERE id = NEW.id; RETURN NULL;");

    /// <summary>Every row inserted into <paramref name="table"/> gets <paramref name="column"/> = <paramref name="value"/>.</summary>
    public static string OverwriteEveryInsertedValue(string table, string column, string value) =>
        AttachTrigger(table, "BEFORE INSERT", $"NEW.\"{column}\" := '{value}'; RETURN NEW;");

    /// <summary>Every row inserted into <paramref name="table"/> gets <paramref name="column"/> = the SQL expression <paramref name="expression"/> (of NEW).</summary>
    public static string RewriteEveryInsertedValue(string table, string column, string expression) =>
        AttachTrigger(table, "BEFORE INSERT", $"NEW.\"{column}\" := {expression}; RETURN NEW;");

    /// <summary>
    /// Every INSERT statement into <paramref name="table"/> sleeps <paramref name="seconds"/> after
    /// writing its rows: the run stays inside its migration transaction, mid-move, long enough for a
    /// test to kill it. <see cref="Remove"/> takes it away again.
    /// </summary>
    public static string SleepAfterEachInsert(string table, int seconds) =>
        AttachTrigger(table, "AFTER INSERT", $"PERFORM pg_sleep({seconds}); RETURN NULL;", "STATEMENT");

    /// <summary>
    /// Every INSERT statement into <paramref name="table"/> then waits for the advisory lock
    /// <paramref name="gate"/>, which the test holds and releases when it wants the run to go on.
    /// The wait counts against the migration's lock_timeout, so run it with a long --lock-timeout.
    /// </summary>
    public static string GateAfterEachInsert(string table, long gate) =>
        AttachTrigger(table, "AFTER INSERT", $"PERFORM pg_advisory_xact_lock({gate}); RETURN NULL;", "STATEMENT");

    /// <summary>Drops what the other methods of this class created for <paramref name="table"/>.</summary>
    public static string Remove(string table) => $"""
        DROP EVENT TRIGGER IF EXISTS sabotage_{table}_attach;
        DROP FUNCTION IF EXISTS sabotage_{table}_attach();
        DROP FUNCTION IF EXISTS sabotage_{table}_row() CASCADE;
        """;

    private static string AttachTrigger(string table, string timing, string body, string each = "ROW") => $$"""
        CREATE FUNCTION sabotage_{{table}}_row() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN {{body}} END $f$;
        CREATE FUNCTION sabotage_{{table}}_attach() RETURNS event_trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF to_regclass('public.{{table}}') IS NOT NULL
               AND NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'sabotage_{{table}}' AND tgrelid = to_regclass('public.{{table}}')) THEN
                CREATE TRIGGER sabotage_{{table}} {{timing}} ON public.{{table}} FOR EACH {{each}} EXECUTE FUNCTION sabotage_{{table}}_row();
            END IF;
        END $f$;
        CREATE EVENT TRIGGER sabotage_{{table}}_attach ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
            EXECUTE FUNCTION sabotage_{{table}}_attach();
        """;
}
