; Inno Setup 6 script for the transferapp PyInstaller bundle (packaging/transferapp.spec, onedir).
; Build on Windows from the repository root (see BUILD.md):
;   pyinstaller --noconfirm packaging\transferapp.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\transferapp.iss
; The version is pyproject.toml's [project] version, passed in with /DAppVersion (BUILD.md shows how to read it).

#ifndef AppVersion
  #error Pass the version from pyproject.toml: iscc /DAppVersion=x.y.z packaging\windows\transferapp.iss
#endif
#ifndef DistDir
  #define DistDir "..\..\dist\transferapp"
#endif
#define AppName "transferapp"
#define AppExe "transferapp.exe"
#define AppGuiExe "transferappw.exe"

[Setup]
; Keep AppId unchanged across versions: upgrades and the uninstaller find the installation by it.
AppId={{6D0C8A52-3F3B-4E59-9A0E-7C1B2F0B7A11}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=transferapp team
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user install by default (no admin needed); the dialog lets an administrator install for all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
SetupIconFile=..\..\build\icons\transferapp.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
; Signing: see BUILD.md ("Signing"); with a sign tool named "signtool" configured in the Inno Setup IDE or by
; /Ssigntool=..., uncomment the next line so setup.exe and the uninstaller are signed.
; SignTool=signtool

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "startup"; Description: "Run the transferapp agent (watched folders and scheduled jobs) when I log in"; GroupDescription: "Start at login:"; Flags: unchecked

[Files]
; The whole PyInstaller folder: transferapp.exe (console: the command line), transferappw.exe (windowed: shortcuts
; and the agent at login) and _internal\.
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppGuiExe}"; Parameters: "gui"; WorkingDir: "{app}"
Name: "{autoprograms}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppGuiExe}"; Parameters: "gui"; WorkingDir: "{app}"; Tasks: desktopicon
; Start at login runs the headless agent: the desktop app cannot start minimised to the tray yet. The agent uses
; the same jobs, queue and log; opening the desktop app later shows that an agent is already running.
Name: "{autostartup}\{#AppName} agent"; Filename: "{app}\{#AppGuiExe}"; Parameters: "agent"; WorkingDir: "{app}"; Tasks: startup

[Run]
Filename: "{app}\{#AppGuiExe}"; Parameters: "gui"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; Stop a running app or agent so its files can be removed (transfers in flight resume at the next start).
Filename: "{sys}\taskkill.exe"; Parameters: "/F /T /IM {#AppGuiExe}"; Flags: runhidden; RunOnceId: "StopWindowed"
Filename: "{sys}\taskkill.exe"; Parameters: "/F /T /IM {#AppExe}"; Flags: runhidden; RunOnceId: "StopConsole"

; [UninstallDelete] is left out on purpose: only files the installer put in {app} are removed. User data is removed
; only when the user says Yes below.

[Code]
// User data lives where platformdirs puts it (transferapp/paths.py, appauthor=False): config, data (the queue and
// the transfer log), spool (Cache\spool) and logs (Logs) are all under %LOCALAPPDATA%\transferapp.
// Passwords stay in Windows Credential Manager (entries named "transferapp"); the message says so.
function UserDataDir(): String;
begin
  Result := ExpandConstant('{localappdata}\{#AppName}');
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Folder: String;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  Folder := UserDataDir();
  if not DirExists(Folder) then
    exit;
  // Silent uninstalls (upgrades, software deployment) always keep the data.
  if UninstallSilent() then
    exit;
  if MsgBox('Also delete your transferapp data?' + #13#10#13#10 +
            'This removes the connections, jobs, the transfer queue and the transfer log in' + #13#10 +
            Folder + #13#10#13#10 +
            'Choose No to keep them for a later installation. Saved passwords stay in Windows Credential ' +
            'Manager (entries named "transferapp") either way.',
            mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
  begin
    if not DelTree(Folder, True, True, True) then
      MsgBox('Some files in ' + Folder + ' could not be deleted; remove the folder by hand.', mbError, MB_OK);
  end;
end;
