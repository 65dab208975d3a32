using KeyDoctor.Cli;

return KeyDoctorApp.Run(args, Console.Out, Console.Error);
