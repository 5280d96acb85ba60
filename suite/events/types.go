package events

// The data of each event, with the team's camelCase field names. A field
// tagged required:"true" must be present and not empty (for an [ID]: a
// positive integer); the catalogue (docs/events.md) is rendered from these
// tags and doc strings, so the two cannot drift apart.

// Signup is the data of signup-event: a member signed up.
type Signup struct {
	MemberID   ID     `json:"memberId" required:"true" doc:"the new member's id"`
	Email      string `json:"email" required:"true" doc:"unique, case-insensitively"`
	Name       string `json:"name" required:"true" doc:"the member's name"`
	NickName   string `json:"nickName" required:"true" doc:"the name shown in rooms"`
	SignedUpAt Time   `json:"signedUpAt" doc:"when the member signed up"`
}

// Authorizer is the member a suite-room event acts for (the team's
// AuthorizerDto).
type Authorizer struct {
	MemberID      ID     `json:"memberId" required:"true" doc:"the member"`
	Email         string `json:"email" doc:"the member's email"`
	Name          string `json:"name" doc:"the member's name"`
	NickName      string `json:"nickName" doc:"the member's nickname"`
	AccountStatus string `json:"accountStatus" doc:"ACTIVE for members the suite-room service knows"`
	Role          string `json:"role" doc:"USER"`
}

// DepositPayment is the data of deposit-payment (a member waits for the
// deposit to be paid) and of suiteroom-canceljoin (the member left: refund
// it).
type DepositPayment struct {
	SuiteRoomID   ID         `json:"suiteRoomId" required:"true" doc:"the room"`
	AuthorizerDto Authorizer `json:"authorizerDto" required:"true" doc:"the paying member"`
	DepositAmount Int        `json:"depositAmount" required:"true" doc:"the room's deposit per person"`
	IsHost        Bool       `json:"isHost" doc:"true for the host's own deposit at room creation"`
}

// ContractCreation is the data of suiteroom-contract-creation: a room
// started, the contract service is to create its study contract.
type ContractCreation struct {
	SuiteRoomID            ID     `json:"suiteRoomId" required:"true" doc:"the room"`
	Title                  string `json:"title" required:"true" doc:"the room's title"`
	ParticipantIDs         []ID   `json:"participantIds" required:"true" doc:"every participant's memberId, the host first"`
	GroupCapacity          Int    `json:"groupCapacity" required:"true" doc:"the room's recruitment limit"`
	GroupDepositPerPerson  Int    `json:"groupDepositPerPerson" required:"true" doc:"the deposit each participant paid"`
	HostMemberID           ID     `json:"hostMemberId" doc:"the host"`
	StudyDeadline          Time   `json:"studyDeadline" doc:"when the study ends"`
	MinAttendanceRate      Int    `json:"minAttendanceRate" doc:"percent of sessions to attend"`
	MinMissionCompleteRate Int    `json:"minMissionCompleteRate" doc:"percent of missions to complete"`
}

// Join is the data of suiteroom-join (payment confirmed: the member is in)
// and of suiteroom-canceljoin-error (the refund failed: the member is
// restored).
type Join struct {
	SuiteRoomID   ID         `json:"suiteRoomId" required:"true" doc:"the room"`
	IsHost        Bool       `json:"isHost" doc:"true when the host's own deposit was paid"`
	AuthorizerDto Authorizer `json:"authorizerDto" required:"true" doc:"the member who paid"`
}

// RoomRef is the data of suiteroom-start-error and
// suiteroom-terminate-complete: they name a room and nothing else.
type RoomRef struct {
	SuiteRoomID ID `json:"suiteRoomId" required:"true" doc:"the room"`
}

// HallOfFameSelection is the data of halloffame-selection: the room's
// honour points.
type HallOfFameSelection struct {
	SuiteRoomID ID  `json:"suiteRoomId" required:"true" doc:"the room"`
	HonorPoint  Int `json:"honorPoint" required:"true" doc:"the room's honour points"`
}

// Validate reports a missing required field.
func (d Signup) Validate() error { return validate(&d) }

// Validate reports a missing required field.
func (d DepositPayment) Validate() error { return validate(&d) }

// Validate reports a missing required field.
func (d ContractCreation) Validate() error { return validate(&d) }

// Validate reports a missing required field.
func (d Join) Validate() error { return validate(&d) }

// Validate reports a missing required field.
func (d RoomRef) Validate() error { return validate(&d) }

// Validate reports a missing required field.
func (d HallOfFameSelection) Validate() error { return validate(&d) }
