import ArgumentParser

@main
struct SpeechRouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speechrouter",
        abstract: "An OpenRouter-compatible text-to-speech gateway.",
        subcommands: [Serve.self, Say.self, ListModels.self, Voices.self, Keys.self, Credits.self, CacheCommand.self])
}
