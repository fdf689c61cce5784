import Foundation

/// Where `scripts/install-piper` and `scripts/install-hibari` put their parts when no setting
/// names the place: the working directory, then the executable's directory and each of its
/// ancestors, nearest first (the checkout the binary was built in).
struct InstallationSearchPath: Sendable {
    var directories: [String]

    init(currentDirectory: String, executablePath: String?) {
        directories = [currentDirectory]
        guard let executablePath else { return }
        var directory = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            directories.append(directory.path)
            directory.deleteLastPathComponent()
        }
    }

    /// `relativePath` in each of the directories, in the order they are searched.
    func candidates(_ relativePath: String) -> [String] {
        directories.map { $0 + "/" + relativePath }
    }
}
