/// Option-value cases: a cheap, valid command line of each subcommand with one option set to an absurd
/// value. The command must refuse it at once (or run it to a clean end within the time limit).
enum Options {
    struct Template {
        var arguments: [String]
        var options: [(String, [String])]
        var inputs: [String] = []
    }

    static let counts = ["0", "-1", "4611686018427387904", "9223372036854775807", "100000", "-9223372036854775808"]
    static let reals = ["nan", "inf", "-inf", "-1", "0", "1e308", "1e-300", "-0"]
    static let fractions = ["nan", "-1", "2", "inf", "-inf", "1e308"]
    static let spacings = ["1e-300", "0", "-1", "nan", "inf", "1e300", "1e-3", "1e-300,1,1", "1,2", "1,2,3,4", "", ",,", "4,nan,4"]
    static let rois = ["0", "-32", "1", "100000", "4611686018427387904", "9223372036854775807", "64,32", "32,32,32,32", "nan", "0,0,0",
                       "4611686018427387904,32,32", "96,96,100000", ""]

    static let train = ["train", "--data", "@/data", "--out", "@/run", "--validate-every", "0"] + Cases.trainBase
    static let pretrain = ["pretrain", "--data", "@/data", "--out", "@/run"] + Cases.trainBase
    static let runOptions: [(String, [String])] = [
        ("--batch", counts), ("--epochs", counts), ("--roi", rois), ("--lr", reals), ("--spacing", spacings),
        ("--feature-size", counts + ["13", "120000"]), ("--samples", counts), ("--max-steps", counts), ("--warmup", fractions),
        ("--weight-decay", reals), ("--checkpoint-every", counts), ("--seed", ["18446744073709551616", "-1"]),
    ]
    static let classify = ["classify", "train", "--slices", "@/slices", "--out", "@/c", "--size", "75", "--epochs", "1", "--batch", "1",
                           "--max-steps", "1", "--device", "cpu"]
    static let classifyOptions: [(String, [String])] = [
        ("--size", counts + ["74", "1"]), ("--batch", counts), ("--epochs", counts), ("--lr", reals), ("--swa-start", fractions),
        ("--label-smoothing", fractions), ("--max-steps", counts), ("--weight-decay", reals),
    ]

    static let templates: [Template] = [
        Template(arguments: train, options: runOptions + [
            ("--validate-every", counts), ("--train-fraction", fractions + ["0", "1"]), ("--overlap", fractions + ["1", "0.99999999"]),
            ("--flip-prob", fractions), ("--rotate-prob", fractions), ("--zoom-prob", fractions), ("--intensity-prob", fractions),
            ("--class-ratios", ["0,0,0", "-1,1,1", "nan,1,1", "1", "1,1,1,1", "inf,1,1", "1e308,1e308,1e308"])]),
        Template(arguments: pretrain, options: runOptions + [
            ("--tasks", ["", "none", "inpaint,inpaint", "x", ","]), ("--temperature", reals), ("--lambda-inpaint", reals),
            ("--lambda-flip", reals), ("--lambda-contrast", reals)]),
        Template(arguments: classify, options: classifyOptions),
        Template(arguments: ["classify", "cv", "--slices", "@/slices", "--out", "@/c", "--size", "75", "--epochs", "1", "--batch", "1",
                             "--max-steps", "1", "--device", "cpu", "--folds", "2", "--replicates", "20"],
                 options: classifyOptions + [("--folds", counts + ["1"]), ("--replicates", counts)]),
        Template(arguments: ["metrics", "--gt", "@/mask.nii.gz", "--pred", "@/mask.nii.gz"],
                 options: [("--labels", ["", "0", "-1", "9223372036854775807", "1,1,1,1", "255", "nan", ",", "-9223372036854775808"])]),
        Template(arguments: ["metrics", "--classification", "@/p.csv", "--plots", "@/plots"],
                 options: [("--bootstrap", counts + ["100000000"]), ("--seed", ["18446744073709551616"])]),
        Template(arguments: ["evaluate", "--pred", "@/gt", "--gt", "@/gt", "--out", "@/eval", "--bootstrap", "20"],
                 options: [("--bootstrap", counts + ["100000000"]), ("--labels", ["", "0", "-1", "9223372036854775807", "nan", "255"])]),
        Template(arguments: ["synth", "--cases", "1", "--out", "@/s", "--in-plane", "40,32"],
                 options: [("--cases", counts), ("--in-plane", ["0,0", "1,1", "2,2", "9223372036854775807,9223372036854775807", "100000,100000",
                                                                 "-1,5", "40", "nan,nan", "40,32,7", "4611686018427387904,2", ""])]),
        Template(arguments: ["preprocess", "@/ct.nii.gz", "--out", "@/p.nii.gz", "--spacing", "4"],
                 options: [("--spacing", spacings), ("--window", ["nan,nan", "1,0", "inf,-inf", "0,0", "", "1", "-1e308,1e308"])]),
        Template(arguments: ["segment", "@/ct.nii.gz", "--weights", "%/weights.safetensors", "--out", "@/m.nii.gz", "--device", "cpu"],
                 options: [("--spacing", spacings), ("--roi", rois), ("--overlap", fractions + ["1", "0.99999999", "100"])],
                 inputs: ["weights.safetensors"]),
        Template(arguments: ["slices", "--ct", "@/ct.nii.gz", "--mask", "@/mask.nii.gz", "--out", "@/sl"],
                 options: [("--window", ["nan", "", "auto,auto", "-1", "none "]), ("--type", ["XXX", ""]),
                           ("--patient", ["../escape", "", "/", "a/b", ".."])]),
        Template(arguments: ["bench", "metrics", "--shape", "8,8,8"],
                 options: [("--shape", ["100000,100000,100000", "0,0,0", "-1,1,1", "9223372036854775807,2,2", "4611686018427387904,4,4",
                                        "2097152,2097152,2097152", "1", ""])]),
        Template(arguments: ["debug", "sliding-window", "--weights", "%/weights.safetensors", "--input", "@/x.safetensors", "--output", "@/y.safetensors",
                             "--roi", "32,32,32", "--device", "cpu"],
                 options: [("--roi", ["0,0,0", "1,1,1", "100000,100000,100000", "-32,32,32", "4611686018427387904,32,32", "32"]),
                           ("--overlap", fractions + ["1"]), ("--sw-batch", counts), ("--sigma-scale", reals), ("--mode", ["x", ""])],
                 inputs: ["weights.safetensors"]),
    ]

    /// The valid inputs every option case gets (a few kilobytes).
    static func kit(_ spec: inout CaseSpec, _ m: inout Mutator) {
        Cases.validNIfTI(Seeds.ct(), name: "ct.nii.gz", into: &spec)
        Cases.validNIfTI(Seeds.mask(), name: "mask.nii.gz", into: &spec)
        spec.files.append(("p.csv", Array(Seeds.classificationCSV.utf8)))
        Cases.evaluateFolders(&spec)
        spec.files.removeAll { $0.0.hasPrefix("pred/") }
        spec.files.append(("x.safetensors", Seeds.forwardInput()))
        let chunks = Seeds.pngChunks(width: 12, height: 12, bitDepth: 16)
        spec.files += [("slices/a.png", Seeds.png(chunks)), ("slices/b.png", Seeds.png(chunks)), ("slices/manifest.csv", Array(Seeds.slicesManifest.utf8))]
        for (name, v) in [("imagesTr/case_000", Seeds.ct()), ("labelsTr/case_000", Seeds.mask())] {
            spec.files.append(("data/\(name).nii.gz", Container.gzip(Seeds.nifti1(v))))
        }
        for (name, v) in [("imagesTr/case_001", Seeds.ct(shape: [8, 7, 5])), ("labelsTr/case_001", Seeds.mask(shape: [8, 7, 5]))] {
            spec.files.append(("data/\(name).nii", Seeds.nifti1(v)))
        }
        spec.files.append(("data/manifest.csv", Array(Seeds.datasetManifest.utf8)))
    }

    /// One template, one option, one absurd value (replacing the template's value when it has one).
    static func build(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        kit(&spec, &m)
        let t = m.pick(templates)
        let (option, values) = m.pick(t.options)
        let value = m.pick(values)
        var a = t.arguments
        if let i = a.firstIndex(of: option), i + 1 < a.count { a[i + 1] = value } else { a += [option, value] }
        spec.arguments = a
        spec.sharedInputs = t.inputs
        m.note("\(a.prefix(2).joined(separator: " ")) \(option) \(value.debugDescription)")
    }
}
