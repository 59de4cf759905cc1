// The namespaces most test files use, imported once for the whole project (NUnit.Framework comes
// from the project file). A file's own using directives name only what few other files need.
global using System.Diagnostics;
global using System.Globalization;
global using System.Text;
global using System.Text.Json;
global using System.Text.Json.Nodes;
global using IamVet.Schema.Migrations;
global using IamVet.Schema.Runner.Backup;
global using IamVet.Schema.Runner.Configuration;
global using IamVet.Schema.Runner.Engine;
global using IamVet.Schema.Runner.Postgres;
global using IamVet.Schema.Tests.Infrastructure;
global using Npgsql;
