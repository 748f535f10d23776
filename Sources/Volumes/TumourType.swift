/// The paper's tumour types, in the order of the classifier's outputs: hepatocellular carcinoma, intrahepatic
/// cholangiocarcinoma, colorectal liver metastasis. The one definition of the class names (manifests, slices, reports).
public enum TumourType: String, CaseIterable, Sendable {
    case hcc = "HCC", icc = "ICC", crlm = "CRLM"
}
