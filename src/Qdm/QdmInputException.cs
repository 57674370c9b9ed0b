namespace Qdm;

/// <summary>Bad input a person can fix (wrong file, wrong architecture, bad option). The CLI prints the message as one line.</summary>
public class QdmInputException : Exception
{
    public QdmInputException(string message) : base(message) { }
}
