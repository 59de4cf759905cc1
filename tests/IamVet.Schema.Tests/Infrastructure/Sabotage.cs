namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// SQL that makes a migration's data move go wrong behind the runner's back, to prove that
/// verification catches it. The tables it targets do not exist before the migration creates them,
/// so an event trigger attaches the row trigger the moment the table is created, inside the
/// migration's own transaction (and is rolled back with it).
/// </summary>
public static class Sabotage
{
    /// <summary>Every row inserted into <paramref name="table"/> is deleted again.</summary>
    public static string DeleteEveryInsertedRow(string table) =>
        AttachRowTrigger(table, "AFTER INSERT", $"DELETE FROM {table} WHERE id = NEW.id; RETURN NULL;");

    /// <summary>Every row inserted into <paramref name="table"/> gets <paramref name="column"/> = <paramref name="value"/>.</summary>
    public static string OverwriteEveryInsertedValue(string table, string column, string value) =>
        AttachRowTrigger(table, "BEFORE INSERT", $"NEW.\"{column}\" := '{value}'; RETURN NEW;");

    private static string AttachRowTrigger(string table, string timing, string body) => $$"""
        CREATE FUNCTION sabotage_{{table}}_row() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN {{body}} END $f$;
        CREATE FUNCTION sabotage_{{table}}_attach() RETURNS event_trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF to_regclass('public.{{table}}') IS NOT NULL
               AND NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'sabotage_{{table}}' AND tgrelid = to_regclass('public.{{table}}')) THEN
                CREATE TRIGGER sabotage_{{table}} {{timing}} ON public.{{table}} FOR EACH ROW EXECUTE FUNCTION sabotage_{{table}}_row();
            END IF;
        END $f$;
        CREATE EVENT TRIGGER sabotage_{{table}}_attach ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
            EXECUTE FUNCTION sabotage_{{table}}_attach();
        """;
}
