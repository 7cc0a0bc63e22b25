; Inno Setup script: a Windows installer for the PyInstaller bundle (issue #8).
;
; On Windows, from the repository root:
;   pyinstaller installer\pickaxe.spec --noconfirm            (makes dist\Pickaxe\Pickaxe.exe)
;   iscc /DAppVersion=0.1.0 installer\windows\pickaxe.iss     (makes dist\Pickaxe-0.1.0-setup.exe)
; iscc comes with Inno Setup 6 (https://jrsoftware.org/isinfo.php). AppVersion defaults to the value
; below; keep it equal to [project] version in pyproject.toml (tests/installer/test_platform_files.py
; checks it).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Pickaxe"
#define AppExe "Pickaxe.exe"

[Setup]
; AppId identifies the app for upgrades and uninstall: never change it.
AppId={{6F1C2B9E-4A57-4E0B-9C1D-7B2E5A3F8D41}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Pickaxe
AppComments=Screen the Russell 2000 for cash flow, leverage and interest-rate resilience
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user install without administrator rights unless the user chooses "all users".
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SourceDir=..\..
OutputDir=dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
SetupIconFile=installer\icons\pickaxe.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder bundle. User data (database, settings, logs) lives in the user's AppData
; folders, never under {app}, so upgrades and uninstalls leave it alone.
Source: "dist\Pickaxe\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
