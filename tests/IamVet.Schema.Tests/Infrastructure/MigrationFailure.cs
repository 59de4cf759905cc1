namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// Runs a migration that must be refused and hands back PostgreSQL's own error (found anywhere in
/// the exception chain FluentMigrator wraps it in), so a test asserts on the message the operator
/// reads rather than on FluentMigrator's wrapper text, which repeats the whole SQL script.
/// </summary>
public static class MigrationFailure
{
    public static async Task<PostgresException> OfAsync(Func<Task> migrate)
    {
        Exception? failure = null;
        try
        {
            await migrate();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failure = ex;
        }

        if (failure is null)
        {
            Assert.Fail("the migration succeeded, but a refusal was expected");
        }

        for (var current = failure; current is not null; current = current.InnerException)
        {
            if (current is PostgresException postgres)
            {
                return postgres;
            }
        }

        Assert.Fail($"the migration failed without a PostgreSQL error: {failure}");
        throw new InvalidOperationException("unreachable");
    }
}
