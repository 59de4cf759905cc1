using System.CommandLine;

namespace IamVet.Schema.Runner.Cli;

/// <summary>Options shared by every command that touches a database.</summary>
public static class CommonOptions
{
    public static readonly Option<string?> Connection = new("--connection", "-c")
    {
        Description = "Npgsql connection string (else env IAMVET_SCHEMA_CONNECTION, else ConnectionStrings:IamVet in appsettings.json)",
    };

    public static void AddTo(Command command)
    {
        command.Options.Add(Connection);
    }
}
