import ArgumentParser
import BuiltinEngines
import SpeechRouterClient
import SpeechCore

struct ListModels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the speech models with their voices and prices, from a server or the built-in catalog.")

    @Flag(help: "List every voice, not just the first few.")
    var allVoices = false

    @OptionGroup var server: ServerAddress

    func run() async throws {
        let rows: [ModelTable.Row]
        if let client = try server.client() {
            do {
                rows = try await client.models.list(outputModalities: "speech").map {
                    ModelTable.Row(
                        id: $0.id, contextLength: $0.contextLength, pricePerCharacter: $0.pricing.prompt,
                        voices: $0.supportedVoices)
                }
            } catch let error as APIError {
                throw CommandFailure(error.message)
            } catch {
                throw CommandFailure("\(client.baseURL): \(error)")
            }
        } else {
            rows = try await LocalEngines.start().engines.map(\.model).sorted { $0.id < $1.id }.map {
                ModelTable.Row(
                    id: $0.id, contextLength: $0.contextLength, pricePerCharacter: $0.pricePerCharacter,
                    voices: $0.voices)
            }
        }
        print(ModelTable(rows: rows, voicesWidth: allVoices ? nil : 60).render())
    }
}
