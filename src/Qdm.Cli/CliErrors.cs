using Spectre.Console;

namespace Qdm.Cli;

/// <summary>Runs a command body; bad input becomes one line on stderr and exit code 2, never a stack trace.</summary>
public static class CliErrors
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is QdmInputException or FileNotFoundException or DirectoryNotFoundException
                                       or InvalidDataException or NotSupportedException or ArgumentException)
        {
            Console.Error.WriteLine($"qdm: error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("qdm: interrupted; finished work is kept and a rerun resumes from it.");
            return 130;
        }
    }

    public static void Info(string markup) => AnsiConsole.MarkupLine(markup);
}
